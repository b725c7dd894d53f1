"""Builders for the annotator-side tests: an open study with images, a session at the judging step,
and answers that fit what a session is shown."""
from django.core.files.base import ContentFile
from django.urls import reverse

from annotations.crowd import (
    Identity,
    session_consent,
    session_enter,
    session_instructions_done,
    session_next_assignment,
    session_questionnaire_save,
)
from annotations.models import Artwork, Session, Study
from annotations.questions import item_questions
from tests.factories import image_bytes


def study_open(study: Study, artworks: int = 6, **fields) -> Study:
    """Open `study` with `artworks` images (and any study fields given)."""
    fields = {"status": Study.Status.OPEN, "completion_code": "C0DE42", **fields}
    Study.objects.filter(pk=study.pk).update(**fields)
    study.refresh_from_db()
    artworks_add(study, artworks)
    return study


def artworks_add(study: Study, n: int, start: int = 0) -> list[Artwork]:
    made = []
    for i in range(start, start + n):
        artwork = Artwork(study=study, external_id=f"art-{i:03d}", title=f"Painting {i}")
        artwork.image.save(f"art-{i:03d}.png", ContentFile(image_bytes((i * 37 % 255, 90, 160), (80, 60))), save=False)
        artwork.save()
        made.append(artwork)
    return made


def session_judging(study: Study, external_id: str = "p1"):
    """A session that has consented, read the instructions and answered the questionnaire."""
    session = session_enter(study, Identity(external_id, "prolific", "STUDY", "SESSION"))
    session_consent(session, agree=True)
    session_instructions_done(session)
    if study.questionnaire:
        session_questionnaire_save(session, {"art_training": "some", "museum_visits": "yearly"})
    return session


def session_judging_http(client, study: Study, participant: str = "p1", **request):
    """The same through the annotator pages, as `client` (a Django test client; `request`: e.g. REMOTE_ADDR)."""
    entry = reverse("annotations:session_entry", args=[study.slug])
    client.get(entry, {"PROLIFIC_PID": participant}, **request)
    client.post(entry + "consent/", {"choice": "agree"}, **request)
    client.post(entry + "instructions/", **request)
    client.post(entry + "questionnaire/", {"q-art_training": "some", "q-museum_visits": "yearly"}, **request)
    return Session.objects.get(participant__external_id=participant)


def answers_valid(session, assignment) -> dict[str, list[str]]:
    """An answer that fits every question: the first label/point, or what a check asks for."""
    answers = {}
    for q in item_questions(session, assignment):
        if assignment.is_attention_check:
            expected = assignment.attention_check.expected
            answers[q.key] = [str(v) for v in expected] if isinstance(expected, list) else [str(expected)]
        else:
            answers[q.key] = [q.options[0].value]
    return answers


def form_data(assignment, answers: dict[str, list[str]], **extra) -> dict:
    return {"artwork": str(assignment.artwork_id), **{f"d-{k}": v for k, v in answers.items()}, **extra}


def session_finish(session) -> None:
    """Judge every item of a judging session with valid answers, through the services."""
    from annotations.crowd import judgement_record

    while (assignment := session_next_assignment(session)) is not None:
        judgement_record(session, assignment.artwork_id, answers_valid(session, assignment))
        session.refresh_from_db()
