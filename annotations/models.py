"""Studies, their dimensions and artworks, and the people who judge them.

Invariants live in the database (unique and check constraints); Python validation in
`annotations.values` and the import services gives the friendly message first.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .values import parse_value


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    class FailAction(models.TextChoices):
        FLAG = "flag", "flag the participant for exclusion"
        END = "end", "end the session"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    consent_text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    items_per_session = models.PositiveIntegerField(default=20)
    target_judgements_per_item = models.PositiveIntegerField(default=5)
    attention_check_rate = models.FloatField(default=0.0)
    attention_fail_limit = models.PositiveIntegerField(
        default=1, help_text="Failed attention checks after which the action below is taken")
    attention_fail_action = models.CharField(max_length=5, choices=FailAction.choices, default=FailAction.FLAG)
    questionnaire = models.BooleanField(default=True, help_text="Ask the short background questionnaire")
    completion_url = models.URLField(blank=True)
    completion_code = models.CharField(max_length=64, blank=True)
    screenout_code = models.CharField(max_length=64, blank=True,
                                      help_text="Code for participants whose session ends on failed attention checks")
    open_requested = models.BooleanField(default=False,
                                         help_text="Opening was asked for: opens once every artwork's image is fetched")
    template = models.CharField(max_length=80, blank=True, help_text="Template the study was made from")
    extra = models.JSONField(default=dict, blank=True, help_text="Further study-file fields, kept as given")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    questions_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Moves whenever a dimension is saved or deleted")

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attention_check_rate__gte=0) & Q(attention_check_rate__lte=1),
                name="study_attention_rate_0_1",
            ),
            models.CheckConstraint(condition=Q(items_per_session__gte=1), name="study_items_per_session_positive"),
            models.CheckConstraint(condition=Q(status__in=["draft", "open", "closed"]), name="study_status_valid"),
            models.CheckConstraint(condition=Q(attention_fail_limit__gte=1),
                                   name="study_attention_fail_limit_positive"),
            models.CheckConstraint(condition=Q(attention_fail_action__in=["flag", "end"]),
                                   name="study_attention_fail_action_valid"),
        ]

    def __str__(self) -> str:
        return self.slug


class Dimension(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "single choice"
        MULTI = "multi", "multi-label tags"
        BINARY = "binary", "binary"
        RATING = "rating", "rating scale"
        PAIRWISE = "pairwise", "which of two"
        BEST_WORST = "best_worst", "best and worst of 3-5"
        TRIPLET = "triplet", "odd one out of three"

    class Level(models.TextChoices):
        NOMINAL = "nominal"
        ORDINAL = "ordinal"
        INTERVAL = "interval"
        RATIO = "ratio"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="dimensions")
    key = models.SlugField(max_length=50)
    position = models.PositiveIntegerField(default=0)
    question = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    labels = models.JSONField(default=list, blank=True, help_text="Ordered labels (single, multi, binary)")
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)
    anchors = models.JSONField(default=dict, blank=True, help_text="Scale point -> anchor words")
    level = models.CharField(max_length=10, choices=Level.choices)
    prompts = models.JSONField(default=list, blank=True, help_text="CLIP prompt templates with {label}")
    extra = models.JSONField(default=dict, blank=True, help_text="Further study-file fields, kept as given")

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="dimension_key_unique_in_study"),
            models.CheckConstraint(
                condition=~Q(kind="rating") | (Q(scale_min__isnull=False) & Q(scale_max__gt=models.F("scale_min"))),
                name="dimension_rating_has_scale",
            ),
            models.CheckConstraint(condition=Q(kind__in=["single", "multi", "binary", "rating", "pairwise",
                                                         "best_worst", "triplet"]),
                                   name="dimension_kind_valid"),
            models.CheckConstraint(
                condition=Q(level__in=["nominal", "ordinal", "interval", "ratio"]), name="dimension_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.key}"

    def parse_value(self, raw):
        """The canonical stored value for `raw`, or ValueError saying why it does not fit."""
        return parse_value(self.kind, self.labels, self.scale_min, self.scale_max, raw)


@receiver([post_save, post_delete], sender=Dimension)
def _questions_changed(sender, instance: Dimension, **kwargs) -> None:
    """A dimension saved or deleted (study file edit, admin, a study's deletion) moves its study's
    questions version, by which the participant pages cache a study's questions per process."""
    Study.objects.filter(pk=instance.study_id).update(questions_version=F("questions_version") + 1)


class Artwork(models.Model):
    class Origin(models.TextChoices):
        HUMAN = "human", "made by a human artist"
        AI = "ai", "generated by AI"
        UNKNOWN = "", "unknown"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="artworks")
    external_id = models.CharField(max_length=255, help_text="The manifest's id, else its file name")
    image = models.ImageField(upload_to="artworks/%Y/%m/", blank=True, width_field="width", height_field="height")
    image_url = models.URLField(max_length=2000, blank=True, help_text="Where the image comes from, if remote")
    fetch_error = models.CharField(max_length=300, blank=True, help_text="Why the last download of image_url failed")
    display_image = models.FileField(upload_to="display/", blank=True, max_length=200,
                                     help_text="What annotators see: re-encoded, resized, every metadata block dropped")
    thumbnail = models.FileField(upload_to="thumbs/", blank=True, max_length=200,
                                 help_text="Small derivative for the researcher pages, made like display_image")
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    artist = models.CharField(max_length=300, blank=True)
    year = models.CharField(max_length=50, blank=True, help_text="As given, e.g. 'c. 1503-1519'")
    year_start = models.IntegerField(null=True, blank=True)
    year_end = models.IntegerField(null=True, blank=True)
    style = models.CharField(max_length=100, blank=True)
    period = models.CharField(max_length=100, blank=True)
    school = models.CharField(max_length=100, blank=True)
    genre = models.CharField(max_length=100, blank=True)
    origin = models.CharField(max_length=5, choices=Origin.choices, blank=True)
    generator = models.CharField(max_length=200, blank=True)
    prompt = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True)
    license = models.CharField(max_length=300, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "external_id"], name="artwork_id_unique_in_study"),
            models.UniqueConstraint(
                fields=["study", "sha256"], condition=~Q(sha256=""), name="artwork_image_unique_in_study"
            ),
            models.CheckConstraint(condition=Q(origin__in=["human", "ai", ""]), name="artwork_origin_valid"),
            models.CheckConstraint(
                condition=(Q(year_start__isnull=True) | Q(year_end__isnull=True)
                           | Q(year_end__gte=models.F("year_start"))),
                name="artwork_year_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["study", "origin"]), models.Index(fields=["study", "style"])]

    def __str__(self) -> str:
        return self.title or self.external_id

    @property
    def has_image(self) -> bool:
        return bool(self.image)


class ExpertLabel(models.Model):
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="expert_labels")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="expert_labels")
    value = models.JSONField()
    source = models.CharField(max_length=200, blank=True)
    is_gold = models.BooleanField(default=False, help_text="May be shown as an attention check with a known answer")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artwork", "dimension"], name="expert_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.artwork} {self.dimension.key}={self.value}"


class Participant(models.Model):
    class Source(models.TextChoices):
        PROLIFIC = "prolific"
        MTURK = "mturk"
        EXPERT = "expert"
        GENERIC = "generic"
        IMPORT = "import", "imported judgements"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    external_id = models.CharField(max_length=255)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERIC)
    expertise = models.JSONField(default=dict, blank=True, help_text="Background questionnaire answers")
    excluded = models.BooleanField(default=False)
    exclusion_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "external_id"], name="participant_unique_in_study"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class Session(models.Model):
    class Phase(models.TextChoices):
        CONSENT = "consent"
        INSTRUCTIONS = "instructions"
        QUESTIONNAIRE = "questionnaire"
        JUDGING = "judging"
        COMPLETED = "completed"
        DECLINED = "declined"
        TERMINATED = "terminated"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sessions")
    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="session")
    phase = models.CharField(max_length=15, choices=Phase.choices, default=Phase.CONSENT)
    seed = models.BigIntegerField(help_text="Seeds this participant's artwork order")
    platform_study_id = models.CharField(max_length=255, blank=True)
    platform_session_id = models.CharField(max_length=255, blank=True)
    resume_code = models.CharField(max_length=16, blank=True,
                                   help_text="Shown to the participant: resumes the session from another browser")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["study", "phase"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=["consent", "instructions", "questionnaire", "judging", "completed", "declined",
                                       "terminated"]),
                name="session_phase_valid",
            ),
            models.UniqueConstraint(fields=["study", "resume_code"], condition=~Q(resume_code=""),
                                    name="session_resume_code_unique_in_study"),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} ({self.participant})"


class Held(models.Model):
    """What a session is given to do, an artwork or a trial: held until a time, served, done or released
    (the claims in `assignment` and `comparative` work the same on both)."""

    class Status(models.TextChoices):
        HELD = "held"
        DONE = "done"
        RELEASED = "released"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    held_until = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Assignment(Held):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="assignments")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField()
    is_attention_check = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "artwork"], name="assignment_artwork_once_per_session"),
            models.UniqueConstraint(fields=["session", "position"], name="assignment_position_unique"),
            models.CheckConstraint(condition=Q(status__in=["held", "done", "released"]),
                                   name="assignment_status_valid"),
            models.CheckConstraint(condition=~Q(status="held") | Q(held_until__isnull=False),
                                   name="assignment_held_has_hold"),
            models.CheckConstraint(condition=~Q(status="done") | Q(completed_at__isnull=False),
                                   name="assignment_done_has_time"),
        ]
        indexes = [models.Index(fields=["artwork", "status"])]

    def __str__(self) -> str:
        return f"{self.session} item {self.position}: {self.artwork} ({self.status})"


class Judgement(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="judgements")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="judgements")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="judgements")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="judgements")
    value = models.JSONField(help_text="A label, a list of labels (multi), or a number (rating)")
    severity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How strong, when the dimension asks for it (deformation: yes, 1-5)")
    response_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Measured on the server")
    client_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Measured in the browser")
    shown = models.JSONField(default=dict, blank=True, help_text="Question wording and label order on screen")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "artwork", "dimension"], name="judgement_once_per_participant_artwork_dimension"
            ),
        ]
        indexes = [models.Index(fields=["artwork", "dimension"]), models.Index(fields=["dimension", "participant"])]

    def __str__(self) -> str:
        return f"{self.participant} {self.artwork} {self.dimension.key}={self.value}"


class AttentionCheck(models.Model):
    """An item with a known answer and how the participant answered it.

    Kept apart from Judgement so that checks never count in agreement statistics. An instructed
    check tells the participant which answer to give; a gold check asks the question of an
    artwork whose expert label is marked gold.
    """

    class Kind(models.TextChoices):
        INSTRUCTED = "instructed", "instructed response"
        GOLD = "gold", "gold expert label"

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="attention_check")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attention_checks")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="attention_checks")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    expected = models.JSONField(help_text="The answer that passes, in the dimension's canonical form")
    instruction = models.CharField(max_length=300, blank=True, help_text="Shown above the question (instructed)")
    answer = models.JSONField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    client_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["instructed", "gold"]), name="attention_check_kind_valid"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, passed__isnull=True)
                | Q(answered_at__isnull=False, passed__isnull=False),
                name="attention_check_answered_has_result",
            ),
        ]
        indexes = [models.Index(fields=["participant", "passed"])]

    def __str__(self) -> str:
        return f"{self.participant} {self.kind} check: {self.passed}"


class StudyMember(models.Model):
    """Who else may see a study. `Study.owner` is the study's owner; a member row adds a viewer
    (read-only) or a co-owner (full access). Access is decided in `selectors.study_for_user`."""

    class Role(models.TextChoices):
        OWNER = "owner", "owner (full access)"
        VIEWER = "viewer", "viewer (read-only)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "user"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="study_member_once"),
            models.CheckConstraint(condition=Q(role__in=["owner", "viewer"]), name="study_member_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.study}"


class ImportJob(models.Model):
    """An upload too large to import within its request (IMPORT_ASYNC_ROWS / IMPORT_ASYNC_BYTES): the
    files wait in a private folder under VAR_DIR while a task imports them; the upload page and the
    API poll this row. `errors` and `result` hold what the request would have answered, capped as it is."""

    class Kind(models.TextChoices):
        ARTWORKS = "artworks"
        JUDGEMENTS = "judgements"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    options = models.JSONField(default=dict, blank=True)  # the upload's keyword arguments (skip_bad_rows, ...)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)  # {"created", "notices", "skipped", "skipped_total"}
    errors = models.JSONField(default=list, blank=True)  # the first IMPORT_LISTED_ERRORS {"row", "field", "reason"}
    errors_total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rows_done__lte=models.F("rows_total")),
                                   name="import_job_rows_done_le_total"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="import_job_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} of {self.study}: {self.status}"


# Comparative judgements (issue 18; the services are in comparative.py) ----------------------------------
class Trial(models.Model):
    """A tuple of artworks judged together on a comparative dimension: 2 (pairwise), 3 (triplet),
    3-5 (best_worst). `key` is the artworks' ids sorted and joined by ';', so one set of artworks is
    one trial whatever order it is shown in. `in_design`: part of the study's balanced design and
    so assigned to sessions; trials only met in an imported file are not."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="trials")
    artworks = models.JSONField(help_text="Artwork ids, sorted")
    key = models.CharField(max_length=100)
    in_design = models.BooleanField(default=True)

    class Meta:
        ordering = ["dimension", "id"]
        constraints = [models.UniqueConstraint(fields=["dimension", "key"], name="trial_once_per_dimension")]
        indexes = [models.Index(fields=["dimension", "in_design"])]

    def __str__(self) -> str:
        return f"{self.dimension} trial {self.key}"


class TrialAssignment(Held):
    """A trial given to a session, like Assignment for an artwork. A repeat (`repeat` 1) shows a
    trial the session already has again, later, to measure the person's consistency; it does not
    count towards the trial's load. `order` is the artworks' ids in screen order, drawn per row."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="trial_assignments")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField()
    repeat = models.PositiveSmallIntegerField(default=0)
    order = models.JSONField(help_text="Artwork ids left to right (top to bottom on a phone)")

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "trial", "repeat"], name="trial_assignment_once_per_session"),
            models.UniqueConstraint(fields=["session", "position"], name="trial_assignment_position_unique"),
            models.CheckConstraint(condition=Q(status__in=["held", "done", "released"]),
                                   name="trial_assignment_status_valid"),
            models.CheckConstraint(condition=~Q(status="held") | Q(held_until__isnull=False),
                                   name="trial_assignment_held_has_hold"),
            models.CheckConstraint(condition=~Q(status="done") | Q(completed_at__isnull=False),
                                   name="trial_assignment_done_has_time"),
        ]
        indexes = [models.Index(fields=["trial", "status"])]

    def __str__(self) -> str:
        return f"{self.session} trial {self.position}: {self.trial.key} ({self.status})"


class ComparativeJudgement(models.Model):
    """One answer to a trial: `items` the artwork ids in screen order, `choice` the chosen artwork's
    id (pairwise: the more X; triplet: the odd one out) or [best, worst] (best_worst). `repeat`
    numbers a person's answers to the same trial (0 first, 1 the repeat...)."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="comparative_judgements")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="judgements")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    repeat = models.PositiveSmallIntegerField(default=0)
    items = models.JSONField(help_text="Artwork ids in screen order")
    choice = models.JSONField(help_text="An artwork id, or [best, worst]")
    response_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Measured on the server")
    client_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Measured in the browser")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "trial", "repeat"],
                                    name="comparative_judgement_once_per_repeat"),
        ]
        indexes = [models.Index(fields=["trial"])]

    def __str__(self) -> str:
        return f"{self.participant} {self.trial.key} -> {self.choice}"
