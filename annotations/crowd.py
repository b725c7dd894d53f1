"""The annotator's side of a study: who they are, which step they are at, and what they answered.

A session moves consent -> instructions -> [questionnaire] -> judging -> completed, or ends as
declined (no consent) or terminated (too many failed attention checks, when the study says so).
Each move is an update guarded by the phase it leaves, so a repeated or late request moves nothing.
"""
import functools
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, JSONField
from django.utils import timezone

from .assignment import HOLD, AssignmentBusy, assignments_allocate
from .comparative import study_is_comparative
from .derivatives import artwork_derivatives_make
from .images import ImageProblem
from .models import Artwork, Assignment, AttentionCheck, Judgement, Participant, Session, Study
from .questions import BACKGROUND, NOT_SAYING, answers_parse, item_questions, study_dimensions

logger = logging.getLogger("artalign.images")
sessions_logger = logging.getLogger("artalign.sessions")
Phase = Session.Phase
EXTERNAL_ID_RE = re.compile(r"^[^\s<>\"'&\x00]{1,255}$")  # NUL: PostgreSQL refuses it in text
MAX_CLIENT_MS = 24 * 3600 * 1000
RENEW_AFTER = timedelta(minutes=1)  # holds are renewed on a serve at most this often
RESUME_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: copied by hand without doubt
RESUME_CODE_LENGTH = 8  # 32^8, about 10^12 codes, against the address's rate of refused attempts


class SessionError(Exception):
    """A request the session cannot take; `message` is shown to the participant as is."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Identity:
    external_id: str
    source: str
    platform_study_id: str = ""
    platform_session_id: str = ""


def identity_from_params(params) -> Identity | None:
    """Who the link says this is: Prolific's PROLIFIC_PID (with STUDY_ID, SESSION_ID) or `participant`."""
    if params.get("PROLIFIC_PID") is not None:
        identity = Identity(params["PROLIFIC_PID"].strip(), Participant.Source.PROLIFIC,
                            params.get("STUDY_ID", "")[:255], params.get("SESSION_ID", "")[:255])
    elif params.get("participant") is not None:
        identity = Identity(params["participant"].strip(), Participant.Source.GENERIC)
    else:
        return None
    platform_ids = identity.platform_study_id + identity.platform_session_id
    if not EXTERNAL_ID_RE.match(identity.external_id) or "\x00" in platform_ids:
        raise SessionError("The participant id in this link is empty or malformed; "
                           "please open the study again from the link you were given.")
    return identity


def _in_study(sessions, study: Study) -> Session | None:
    """The first session of a queryset already filtered to `study`, with the study object attached."""
    session = sessions.first()
    if session is not None:
        session.study = study
    return session


def session_find(study: Study, identity: Identity) -> Session | None:
    return _in_study(Session.objects.filter(study=study, participant__external_id=identity.external_id), study)


def session_by_id(study: Study, session_id) -> Session | None:
    if not isinstance(session_id, int):
        return None
    return _in_study(Session.objects.filter(study=study, pk=session_id), study)


def session_for_browser(slug: str, browser: dict[int, int]) -> Session | None:
    """The session a browser holds for the study `slug` (its study loaded), in one query.

    `browser` maps each study the browser entered (id) to its session there (id).
    """
    if not browser:
        return None
    sessions = list(browser.values())
    with connection.cursor() as cursor:  # SQL written once (see `_session_rows`): every POST of a session reads it
        cursor.execute(f"SELECT {_columns(Session, 's')}, {_columns(Study, 't')} FROM {_table(Session)} s"
                       f" JOIN {_table(Study)} t ON t.id = s.study_id"
                       f" WHERE t.slug = %s AND s.id IN ({', '.join(['%s'] * len(sessions))})", [slug, *sessions])
        found = cursor.fetchone()
    if found is None:
        return None
    fields = len(Session._meta.concrete_fields)
    session = _loaded(Session, found[:fields])
    session.study = _loaded(Study, found[fields:])
    return session if browser.get(session.study_id) == session.pk else None


def session_enter(study: Study, identity: Identity) -> Session:
    """The participant's one session in this study, created on the first visit with its resume code.

    Only for a participant without a session, or one `session_resume` let through. The first try
    inserts both rows; the unique constraints (participant per study, session per participant)
    settle two first visits at once, or a participant already known (imported): the retries read
    what exists with get_or_create; a resume code that happens to be taken in the study (about one
    in 10^12 per session) is drawn again.
    """
    attempts = 3
    while True:
        try:
            with transaction.atomic():
                if attempts == 3:  # the usual case, a new participant: two inserts
                    participant = Participant.objects.create(study=study, external_id=identity.external_id,
                                                             source=identity.source)
                    return Session.objects.create(participant=participant, **_session_fields(study, identity))
                participant, _ = Participant.objects.get_or_create(
                    study=study, external_id=identity.external_id, defaults={"source": identity.source})
                session, _ = Session.objects.get_or_create(participant=participant,
                                                           defaults=_session_fields(study, identity))
            return session
        except IntegrityError:
            attempts -= 1
            if not attempts:
                raise


def _session_fields(study: Study, identity: Identity) -> dict:
    return {"study": study, "seed": secrets.randbits(62), "resume_code": resume_code_new(),
            "platform_study_id": identity.platform_study_id, "platform_session_id": identity.platform_session_id}


def resume_code_new() -> str:
    return "".join(secrets.choice(RESUME_ALPHABET) for _ in range(RESUME_CODE_LENGTH))


def resume_code_clean(raw: str) -> str:
    """A code as typed (any case, spaces or dashes between groups) in its stored form."""
    return re.sub(r"[\s-]+", "", raw or "").upper()[:64]


class SessionRefused(SessionError):
    """The request names a session it cannot prove is its own; `wrong_code` when it gave a code."""

    def __init__(self, message: str, wrong_code: bool = False):
        super().__init__(message, 403)
        self.wrong_code = wrong_code


NOT_YOURS = ("This participant id already has a session in this study, started in another browser. To go on "
             "with it here, enter the resume code shown on that session's pages.")
WRONG_CODE = "That resume code does not belong to a session of this study. Please check it and try again."


def session_resume(study: Study, identity: Identity | None, browser_session_id: int | None,
                   resume_code: str = "") -> Session | None:
    """The session this request may continue; None when the link's participant has none yet.

    A participant id is not a secret (it travels in links, screenshots, shared machines), so it
    never opens a session by itself. What does: the browser that started the session (its signed
    cookie, `browser_session_id`); the session's resume code; or, for a Prolific session, the
    STUDY_ID and SESSION_ID it was started with (Prolific gives each submission its own
    SESSION_ID, known only to that participant). Anything else raises SessionRefused and changes
    nothing of the session.
    """
    if resume_code:
        code = resume_code_clean(resume_code)
        session = _in_study(Session.objects.filter(study=study, resume_code=code), study) if code else None
        if session is None or (identity and session_find(study, identity) != session):
            raise SessionRefused(WRONG_CODE, wrong_code=True)
        return session
    if identity is None:
        return session_by_id(study, browser_session_id)
    session = session_find(study, identity)
    if session is None or session.pk == browser_session_id or _platform_ids_match(session, identity):
        return session
    raise SessionRefused(NOT_YOURS)


def _platform_ids_match(session: Session, identity: Identity) -> bool:
    """A Prolific link for the very submission that started the session (never a `participant=` link)."""
    return (identity.source == Participant.Source.PROLIFIC and bool(session.platform_study_id)
            and bool(session.platform_session_id) and session.platform_study_id == identity.platform_study_id
            and session.platform_session_id == identity.platform_session_id)


def _phase_move(session: Session, leaving: str, entering: str, **fields) -> bool:
    """Move the session from `leaving` to `entering` (with `fields`) if it is still there; the
    session object then holds what is stored (read afresh when another request moved it first)."""
    moved = Session.objects.filter(pk=session.pk, phase=leaving).update(phase=entering, **fields) == 1
    if moved:
        for name, value in {"phase": entering, **fields}.items():
            setattr(session, name, value)
    else:
        session.refresh_from_db()
    return moved


def session_consent(session: Session, agree: bool) -> None:
    if agree:
        _phase_move(session, Phase.CONSENT, Phase.INSTRUCTIONS)
    else:
        _phase_move(session, Phase.CONSENT, Phase.DECLINED, completed_at=timezone.now())


def session_instructions_done(session: Session) -> None:
    _phase_move(session, Phase.INSTRUCTIONS, Phase.QUESTIONNAIRE if session.study.questionnaire else Phase.JUDGING)


def session_allocate_ahead(session: Session) -> None:
    """Allocate the session's artworks before its judging page asks for them (see `assignment`):
    called once the instructions are done, after their answer has been sent, while the participant
    reads the questionnaire. The page then only reads them. Nothing is lost if this fails or comes
    late: the judging page allocates whatever is still missing, and an allocation is made once."""
    if session.phase not in (Phase.QUESTIONNAIRE, Phase.JUDGING) or study_is_comparative(session.study):
        return
    try:
        assignments_allocate(session)
    except AssignmentBusy:
        pass  # others hold every free artwork right now: the judging page tries again
    except Exception:  # noqa: BLE001 (nothing else reports it: the answer is already sent)
        sessions_logger.exception("allocating session %s ahead of its judging page failed", session.pk)


def session_questionnaire_save(session: Session, answers: dict[str, str]) -> None:
    """Store the background answers on the participant (a stratum in reports), then start judging."""
    expertise, missing = {}, []
    for key, question, choices in BACKGROUND:
        allowed = {value for value, _ in choices} | {NOT_SAYING[0]}
        if answers.get(key) not in allowed:
            missing.append(question)
        expertise[key] = answers.get(key)
    if missing:
        raise SessionError("Please choose an answer for: " + " / ".join(missing))
    with transaction.atomic():
        if _phase_move(session, Phase.QUESTIONNAIRE, Phase.JUDGING):
            Participant.objects.filter(pk=session.participant_id).update(expertise=expertise)


@dataclass(frozen=True)
class Item:
    """What to show now: the assignment (its attention check loaded) and the session's progress."""
    assignment: Assignment
    progress: dict


# The fields the judging steps read, in the model's order (Model.from_db takes values in that order).
ROW_FIELDS = tuple(f.attname for f in Assignment._meta.concrete_fields if f.attname in {
    "id", "session_id", "artwork_id", "position", "status", "is_attention_check", "held_until", "served_at"})


# The statements every answer and every serve runs are written here as SQL over the models' tables
# (their columns are the fields' names): Django compiles a queryset anew on each call, and compiling
# these few was about a third of a submission's web CPU (py-spy under bench.load). What they read is
# converted as Django's compiler converts it (dates on SQLite, JSON), by the fields' own converters.
# Names are quoted alike by both databases (PostgreSQL's and SQLite's quote_name), so these are made once.
@functools.cache
def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _columns(model, alias: str, names: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in _fields(model, names))


@functools.cache
def _fields(model, names: tuple[str, ...] = ()) -> list:
    return [f for f in model._meta.concrete_fields if not names or f.attname in names]


CONVERTERS: dict[tuple, list] = {}  # (database vendor, model, fields) -> (position, field, its converters)


def _loaded(model, row, names: tuple[str, ...] = ()):
    """A model instance from a row of `_columns(model, alias, names)`, its values converted as a
    queryset's would be."""
    fields = _fields(model, names)
    key = (connection.vendor, model, names)
    if key not in CONVERTERS:
        CONVERTERS[key] = [(i, f, converters) for i, f in enumerate(fields) if (
            converters := connection.ops.get_db_converters(f.cached_col) + f.get_db_converters(connection))]
    values = list(row)
    for i, field, converters in CONVERTERS[key]:
        for converter in converters:
            values[i] = converter(values[i], field.cached_col, connection)
    return model.from_db(model.objects.db, [f.attname for f in fields], values)


def _session_rows(session: Session, lock: bool = False) -> list[Assignment]:
    """The session's assignments in order, read light (the few fields the judging steps use). With
    `lock`, in the same statement the session's row lock is taken and its phase read afresh (into
    `session.phase`): one round trip for what every answer needs first."""
    sql = (f"SELECT s.phase, {_columns(Assignment, 'a', ROW_FIELDS)} FROM {_table(Session)} s"
           f" LEFT JOIN {_table(Assignment)} a ON a.session_id = s.id WHERE s.id = %s ORDER BY a.position")
    if lock and connection.features.has_select_for_no_key_update:
        sql += " FOR NO KEY UPDATE OF s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [session.pk])
        found = cursor.fetchall()
    if not found:
        raise SessionError("Your session could not be found; nothing was saved.", 404)
    if lock:
        session.phase = found[0][0]
    return [_loaded(Assignment, row[1:], ROW_FIELDS) for row in found if row[1] is not None]


def _with_check(assignment: Assignment) -> Assignment:
    if assignment.is_attention_check:
        assignment.attention_check = AttentionCheck.objects.select_related("dimension").get(assignment_id=assignment.pk)
    return assignment


def session_next_item(session: Session) -> Item | None:
    """The item to show now (the first one still held), its holds renewed; None once judging is over
    or when there is nothing to judge (then `session.phase` is still judging).

    The first call allocates the session's artworks (again on each call while it got none); the
    last item done completes the session.
    """
    if session.phase != Phase.JUDGING:
        return None
    rows = _session_rows(session)
    if not rows:
        assignments_allocate(session)
        rows = _session_rows(session)
    return _next_item(session, rows)


def _assignments_mark(session: Session, now, done: Assignment | None = None, served: Assignment | None = None,
                      renew: bool = False) -> None:
    """One UPDATE for what an answer and the next serve change: `done` answered, `served` shown (its
    first serving time kept), and with `renew` every held assignment of the session held for HOLD
    from now. Nothing to change: no statement."""
    sets, params = [], []
    if done is not None:
        sets += ["status = CASE WHEN id = %s THEN %s ELSE status END",
                 "completed_at = CASE WHEN id = %s THEN %s ELSE completed_at END"]
        params += [done.pk, Assignment.Status.DONE, done.pk, _stored(now)]
    if served is not None and (served.served_at is None or renew):
        sets.append("served_at = CASE WHEN id = %s AND served_at IS NULL THEN %s ELSE served_at END")
        params += [served.pk, _stored(now)]
    ids = [a.pk for a in (done, served) if a is not None]
    where, where_params = f"id IN ({', '.join(['%s'] * len(ids))})", ids
    if renew:  # the CASE reads the row as it was: a row answered now is renewed too, which nothing reads
        sets.append("held_until = CASE WHEN status = %s THEN %s ELSE held_until END")
        params += [Assignment.Status.HELD, _stored(now + HOLD)]
        where = f"({where} OR (session_id = %s AND status = %s))"
        where_params = [*ids, session.pk, Assignment.Status.HELD]
    if sets:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {_table(Assignment)} SET {', '.join(sets)} WHERE {where}", params + where_params)


def _stored(moment: datetime):
    return Assignment._meta.get_field("completed_at").get_db_prep_save(moment, connection)


def _next_item(session: Session, rows: list[Assignment], done: Assignment | None = None) -> Item | None:
    """From the session's assignments as they stand: the first held one, marked served, with the
    progress. One update marks it served, `done` (just answered) done, and renews the holds (at most
    every RENEW_AFTER, so a busy session does not rewrite all its rows on every item; a hold has at
    least HOLD - RENEW_AFTER left whenever an item is served)."""
    held = [a for a in rows if a.status == Assignment.Status.HELD]
    now = timezone.now()
    if not held:
        _assignments_mark(session, now, done)
        # Completion is earned by work: a session given nothing (no artwork free or ready yet) stays
        # at judging, so that it is allocated items on a later visit and never gets the code for free.
        if any(a.status == Assignment.Status.DONE for a in rows):
            _phase_move(session, Phase.JUDGING, Phase.COMPLETED, completed_at=now)
        return None
    current = held[0]
    _assignments_mark(session, now, done, current, renew=min(a.held_until for a in held) < now + HOLD - RENEW_AFTER)
    if current.served_at is None:
        current.served_at = now
    done = sum(a.status == Assignment.Status.DONE for a in rows)
    total = done + len(held)
    checks = sum(a.is_attention_check for a in rows if a.status in (Assignment.Status.DONE, Assignment.Status.HELD))
    return Item(_with_check(current), {"done": done, "total": total, "position": min(done + 1, total),
                                       "checks": checks, "artworks": total - checks})  # the page says what it counts


def session_next_assignment(session: Session) -> Assignment | None:
    """The assignment of `session_next_item`, or None once judging is over."""
    item = session_next_item(session)
    return item.assignment if item else None


def session_progress(session: Session) -> dict:
    counts = dict.fromkeys(Assignment.Status.values, 0)
    for status in Assignment.objects.filter(session=session).values_list("status", flat=True):
        counts[status] += 1
    done, total = counts["done"], counts["done"] + counts["held"]
    return {"done": done, "total": total, "position": min(done + 1, total)}


def session_image_name(slug: str, browser: dict[int, int], assignment_id: int) -> tuple[int, str] | None:
    """The browser's session in the study `slug` (as `session_for_browser`) and the stored name of the
    display derivative of the artwork behind one of that session's assignments (made now, once, for
    an artwork stored before derivatives existed), read in one query of four values: (session id,
    name); None if there is none or it cannot be made: the original file itself is never what an
    annotator receives."""
    if not browser:
        return None
    sessions = list(browser.values())
    with connection.cursor() as cursor:  # as `_session_rows`: SQL written once, not compiled per image
        cursor.execute(
            f"SELECT a.session_id, s.study_id, a.artwork_id, w.display_image FROM {_table(Assignment)} a"
            f" JOIN {_table(Session)} s ON s.id = a.session_id JOIN {_table(Study)} t ON t.id = s.study_id"
            f" JOIN {_table(Artwork)} w ON w.id = a.artwork_id WHERE a.id = %s AND t.slug = %s AND w.image <> ''"
            f" AND a.session_id IN ({', '.join(['%s'] * len(sessions))})", [assignment_id, slug, *sessions])
        found = cursor.fetchone()
    if found is None or browser.get(found[1]) != found[0]:
        return None
    session_id, _, artwork_id, name = found
    if not name:
        artwork = Artwork.objects.get(pk=artwork_id)
        try:
            artwork_derivatives_make(artwork)
        except ImageProblem:
            logger.exception("no display image for artwork %s", artwork.pk)
            return None
        name = artwork.display_image.name
    return session_id, name


def session_exit_code(session: Session) -> str:
    """The code the participant takes back to the platform: the completion code once completed,
    the screen-out code (if the study has one) once ended by failed attention checks, else none."""
    if session.phase == Phase.COMPLETED:
        return session.study.completion_code
    if session.phase == Phase.TERMINATED:
        return session.study.screenout_code
    return ""


def session_completion_url(session: Session) -> str:
    """The crowd platform's URL to return to with `session_exit_code`, {code} filled in URL-encoded.

    Empty when there is no code to fill in, and for an ended session unless the URL takes its
    screen-out code (a URL without {code} would report it to the platform as completed).
    """
    code, url = session_exit_code(session), session.study.completion_url
    if session.phase == Phase.COMPLETED and (code or "{code}" not in url):
        return url.replace("{code}", quote(code, safe=""))
    if session.phase == Phase.TERMINATED and code and "{code}" in url:
        return url.replace("{code}", quote(code, safe=""))
    return ""


def client_ms_parse(raw) -> int | None:
    """The browser's own timing, kept beside the server's; anything implausible is dropped."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= MAX_CLIENT_MS else None


def _answers_stored(assignment: Assignment) -> dict:
    if assignment.is_attention_check:
        check = assignment.attention_check
        return {check.dimension.key: (check.answer, None)}
    return {j.dimension.key: (j.value, j.severity)
            for j in Judgement.objects.filter(session_id=assignment.session_id, artwork_id=assignment.artwork_id)
            .select_related("dimension")}


def session_judge(session: Session, artwork_id, answers: dict[str, list[str]], client_ms: int | None = None,
                  *, dimensions: list | None = None) -> Item | None:
    """`judgement_record`, then the next item (None once judging is over): the judging page's one
    request, reading the session's assignments once for both. One transaction for both, so that
    marking the next item served costs no commit of its own (a refusal stores nothing either way)."""
    with transaction.atomic():
        _, rows, done = _judgement_store(session, artwork_id, answers, client_ms, dimensions)
        if session.phase != Phase.JUDGING:
            _assignments_mark(session, timezone.now(), done)
            return None
        return _next_item(session, rows, done)


def judgement_record(session: Session, artwork_id, answers: dict[str, list[str]], client_ms: int | None = None,
                     *, dimensions: list | None = None) -> str:
    """Store the answers for one assigned artwork; 'stored', or 'repeat' for an exact resubmission.

    Refused with SessionError, storing nothing: an artwork not assigned to this session (409), an
    answer outside a question's labels or scale or a missing one (400), different answers for an
    artwork already answered (409). Attention-check answers go to AttentionCheck, never Judgement.
    `session.phase` is updated in place (it may complete or end the session). `dimensions`: the
    study's, when the caller has already read them (`study_dimensions`).

    Only the session's row is locked (not its study's: that would queue every participant of the
    study behind one another), so two requests of one session are taken one after the other.
    """
    with transaction.atomic():
        result, _, done = _judgement_store(session, artwork_id, answers, client_ms, dimensions)
        _assignments_mark(session, timezone.now(), done)
        return result


def _judgement_store(session: Session, artwork_id, answers: dict[str, list[str]], client_ms: int | None,
                     dimensions: list | None) -> tuple[str, list[Assignment], Assignment | None]:
    """judgement_record's work, inside its caller's transaction (judgement_record's, or session_judge's
    with the next item); also returns the session's assignments as they are after it, and the one
    answered now, whose row the caller marks done (`_assignments_mark`, with the next serve)."""
    try:
        artwork_id = int(artwork_id)
    except (TypeError, ValueError):
        raise SessionError("The form did not say which artwork it answers; nothing was saved.") from None
    now = timezone.now()
    rows = _session_rows(session, lock=True)
    assignment = next((a for a in rows if a.artwork_id == artwork_id), None)
    if assignment is None:
        raise SessionError("This artwork is not one of yours; nothing was saved.", 409)
    _with_check(assignment)
    if dimensions is None and not assignment.is_attention_check:
        dimensions = study_dimensions(session.study)
    questions = item_questions(session, assignment, dimensions)
    values, problems = answers_parse(questions, answers)
    if problems:
        raise SessionError(" ".join(problems) + " Nothing was saved.")
    if assignment.status == Assignment.Status.DONE:
        if _answers_stored(assignment) == values:
            return "repeat", rows, None
        raise SessionError("You have already answered this artwork; your first answers are kept.", 409)
    if assignment.status != Assignment.Status.HELD or session.phase != Phase.JUDGING:
        raise SessionError("This session is no longer taking answers; nothing was saved.", 409)
    response_ms = int((now - assignment.served_at).total_seconds() * 1000) if assignment.served_at else None
    timing = {"response_ms": response_ms, "client_ms": client_ms}
    if assignment.is_attention_check:
        _check_record(session, assignment.attention_check, values, now, timing)
    else:
        _judgements_insert([{"participant_id": session.participant_id, "artwork_id": artwork_id,
                             "dimension_id": q.dimension_id, "session_id": session.pk, "value": values[q.key][0],
                             "severity": values[q.key][1], "shown": q.shown, "created_at": now, **timing}
                            for q in questions])
    assignment.status = Assignment.Status.DONE  # written by the caller, under the same lock
    # The last item done completes the session. Every change of status takes the session's lock,
    # so the rows read under it are current.
    last_done = session.phase == Phase.JUDGING and not any(a.status == Assignment.Status.HELD for a in rows)
    if last_done and Session.objects.filter(pk=session.pk, phase=Phase.JUDGING).update(phase=Phase.COMPLETED,
                                                                                       completed_at=now):
        session.phase, session.completed_at = Phase.COMPLETED, now
    return "stored", rows, assignment


JUDGEMENT_FIELDS = [f for f in Judgement._meta.concrete_fields if not f.primary_key]


def _judgement_prepare(field):
    """How a judgement's value of `field` goes to the database: a date as Django's insert prepares it,
    JSON as its text, which the column takes as JSON (SQLite's JSONField sends the same text;
    PostgreSQL's per-value JSON adapter was half of the INSERT's cost), and the ids and counts, which
    the caller gives as ints or None, as they are."""
    if isinstance(field, JSONField):
        return lambda value: json.dumps(value, cls=field.encoder)
    if isinstance(field, DateTimeField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


JUDGEMENT_PREPARE = [(field.attname, _judgement_prepare(field)) for field in JUDGEMENT_FIELDS]


def _judgements_insert(rows: list[dict]) -> None:
    """One artwork's judgements in one INSERT (`_judgement_prepare`): bulk_create's compilation of the
    same statement was a tenth of a submission's web CPU (bench.load, profiled), for ids nobody reads."""
    values = [prepare(row[name]) if prepare else row[name] for row in rows for name, prepare in JUDGEMENT_PREPARE]
    row = f"({', '.join(['%s'] * len(JUDGEMENT_FIELDS))})"
    columns = ", ".join(connection.ops.quote_name(field.column) for field in JUDGEMENT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_table(Judgement)} ({columns}) "
                       f"VALUES {', '.join([row] * len(rows))}", values)


def _check_record(session: Session, check: AttentionCheck, values: dict, now, timing: dict) -> None:
    """Store the check's answer; at the study's limit of failures flag the participant, and end the
    session if the study says so (its held artworks go back to the pool)."""
    answer = values[check.dimension.key][0]
    AttentionCheck.objects.filter(pk=check.pk).update(answer=answer, passed=answer == check.expected,
                                                      answered_at=now, **timing)
    failed = AttentionCheck.objects.filter(participant_id=session.participant_id, passed=False).count()
    study = session.study
    if failed < study.attention_fail_limit:
        return
    Participant.objects.filter(pk=session.participant_id).update(
        excluded=True, exclusion_reason=f"failed {failed} attention check{'s' if failed > 1 else ''}")
    if study.attention_fail_action == Study.FailAction.END:
        Assignment.objects.filter(session=session, status=Assignment.Status.HELD).exclude(pk=check.assignment_id) \
            .update(status=Assignment.Status.RELEASED)
        _phase_move(session, Phase.JUDGING, Phase.TERMINATED, completed_at=now)
