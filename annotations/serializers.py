"""Serializers of the REST API's study endpoints. They shape and validate; services do the work."""
from django.urls import reverse
from rest_framework import serializers

from .editing import participant_link
from .forms import RESERVED_SLUGS
from .models import Artwork, Dimension, ImportJob, Judgement, Study, StudyMember
from .studies import template_names


class DimensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dimension
        fields = ["key", "position", "question", "kind", "level", "labels", "scale_min", "scale_max", "anchors",
                  "prompts", "extra"]


class StudySerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    role = serializers.SerializerMethodField(help_text="Your role: owner (full access) or viewer (read-only)")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = ["slug", "title", "status", "template", "owner", "role", "created_at", "url"]

    def get_role(self, study) -> str | None:
        return getattr(study, "role", None)

    def get_url(self, study) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:study-detail", args=[study.slug]))


class StudyDetailSerializer(StudySerializer):
    dimensions = DimensionSerializer(many=True, read_only=True)
    participant_link = serializers.SerializerMethodField(help_text="Entry URL with Prolific's placeholders")
    counts = serializers.SerializerMethodField()
    # Not documented as a URI: it may hold the {code} placeholder, which a URI cannot.
    completion_url = serializers.CharField(read_only=True, help_text="Where participants go when done; {code} "
                                                                     "stands for their completion code")

    class Meta(StudySerializer.Meta):
        fields = StudySerializer.Meta.fields + [
            "description", "instructions", "consent_text", "items_per_session", "target_judgements_per_item",
            "attention_check_rate", "attention_fail_limit", "attention_fail_action", "questionnaire",
            "completion_url", "completion_code", "extra", "dimensions", "participant_link", "counts"]

    def get_participant_link(self, study) -> str:
        entry = reverse("annotations:session_entry", args=[study.slug])
        return participant_link(self.context["request"].build_absolute_uri(entry))

    def get_counts(self, study) -> dict:
        return {"artworks": study.artworks.count(), "participants": study.participants.count(),
                "judgements": Judgement.objects.filter(dimension__study=study).count()}


class StudyCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    template = serializers.ChoiceField(choices=(), required=False, help_text="A built-in study template")
    spec = serializers.JSONField(required=False, help_text="A whole study file as a JSON object")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = template_names()

    def validate_slug(self, slug):
        if slug in RESERVED_SLUGS:
            raise serializers.ValidationError(f"{slug!r} is taken by a page of the site; choose another")
        return slug

    def validate(self, data):
        if ("template" in data) == ("spec" in data):
            raise serializers.ValidationError("give either 'template' or 'spec'")
        if "spec" in data and not isinstance(data["spec"], dict):
            raise serializers.ValidationError({"spec": "expected a JSON object with a 'dimensions' list"})
        return data


class StudySpecSerializer(serializers.Serializer):
    spec = serializers.JSONField(required=False, help_text="The study file as a JSON object")
    yaml = serializers.CharField(required=False, help_text="Or the study file as YAML text")

    def validate(self, data):
        if ("spec" in data) == ("yaml" in data):
            raise serializers.ValidationError("give either 'spec' or 'yaml'")
        return data


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField())


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Study.Status.choices)


class FetchFailureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    url = serializers.CharField()
    reason = serializers.CharField()


class FetchProgressSerializer(serializers.Serializer):
    fetching = serializers.BooleanField(help_text="An open request is fetching the images now")
    total = serializers.IntegerField(help_text="Artworks whose image comes from a URL")
    fetched = serializers.IntegerField()
    failed = serializers.IntegerField()
    failures = FetchFailureSerializer(many=True, help_text="The first failed downloads, each with its reason")


class StudyStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    open_requested = serializers.BooleanField(help_text="Opening was asked for: it opens once every image is in")
    fetch = FetchProgressSerializer()


class StatusRefusedSerializer(ErrorsSerializer):
    failures = FetchFailureSerializer(many=True, help_text="Artworks whose image could not be fetched, with the reason")


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = StudyMember
        fields = ["username", "role", "added_at"]
        read_only_fields = ["added_at"]


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.CharField(required=False, default=StudyMember.Role.VIEWER,
                                 help_text="viewer (read-only) or owner")


class ArtworkSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()
    n_judgements = serializers.IntegerField(read_only=True)

    class Meta:
        model = Artwork
        fields = ["id", "external_id", "title", "artist", "year", "style", "period", "school", "genre", "origin",
                  "generator", "prompt", "source", "license", "image", "image_url", "width", "height", "sha256",
                  "metadata", "n_judgements", "created_at"]

    def get_image(self, artwork) -> str | None:
        return self.context["request"].build_absolute_uri(artwork.image.url) if artwork.image else None


class ArtworkUploadSerializer(serializers.Serializer):
    manifest = serializers.FileField(help_text="CSV or parquet manifest")
    images = serializers.FileField(required=False, help_text="ZIP of the images named in the 'file' column")
    url_column = serializers.CharField(required=False, default="url")
    defer_download = serializers.BooleanField(required=False, default=False)
    skip_bad_rows = serializers.BooleanField(required=False, default=False)


class JudgementUploadSerializer(serializers.Serializer):
    judgements = serializers.FileField(help_text="CSV: participant,artwork,dimension,value[,response_ms,created_at]")
    create_artworks = serializers.BooleanField(required=False, default=False)
    skip_bad_rows = serializers.BooleanField(required=False, default=False)


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="From 1 at the first data row; 0 for the file as a whole")
    field = serializers.CharField()
    reason = serializers.CharField()


class ImportFailedSerializer(serializers.Serializer):
    errors = RowErrorSerializer(many=True, help_text="The first 1,000 problems")
    errors_total = serializers.IntegerField(help_text="How many problems were found in all")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    notices = serializers.ListField(child=serializers.CharField())
    skipped = RowErrorSerializer(many=True, help_text="The first 1,000 bad rows skipped")
    skipped_total = serializers.IntegerField(help_text="How many bad rows were skipped in all")


class ImportJobSerializer(serializers.ModelSerializer):
    """A large upload imported by a task: poll `url` until `status` is done or failed."""

    url = serializers.SerializerMethodField()
    kind = serializers.CharField(help_text="artworks or judgements")
    status = serializers.CharField(help_text="queued, running, done or failed")
    result = ImportResultSerializer(allow_null=True, help_text="When done: what a small upload answers with 201")
    errors = RowErrorSerializer(many=True, help_text="When failed: the first 1,000 problems (nothing was imported)")

    class Meta:
        model = ImportJob
        fields = ["id", "url", "kind", "status", "rows_done", "rows_total", "result", "errors", "errors_total",
                  "created_at", "finished_at"]

    def get_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:import-detail", args=[job.study.slug, job.pk]))


class JudgementSerializer(serializers.ModelSerializer):
    participant = serializers.CharField(source="participant.external_id")
    artwork = serializers.CharField(source="artwork.external_id")
    dimension = serializers.CharField(source="dimension.key")
    excluded = serializers.BooleanField(source="participant.excluded")
    value = serializers.JSONField()

    class Meta:
        model = Judgement
        fields = ["id", "participant", "artwork", "dimension", "value", "severity", "response_ms", "client_ms",
                  "shown", "created_at", "excluded"]


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    target_per_artwork = serializers.IntegerField()
    n_artworks = serializers.IntegerField()
    judgements = serializers.IntegerField()
    judgements_target = serializers.IntegerField()
    artwork_judges = serializers.IntegerField(help_text="Sum over artworks of min(people who judged it, target)")
    artwork_judges_target = serializers.IntegerField()
    percent = serializers.FloatField()
    artworks_at_target = serializers.IntegerField()
    dimensions = serializers.ListField(child=serializers.DictField())
    histogram = serializers.ListField(child=serializers.DictField(), help_text="[{judges, artworks}]")
    sessions = serializers.DictField(child=serializers.IntegerField())
    participants = serializers.IntegerField()


class ParticipantProgressSerializer(serializers.Serializer):
    participant = serializers.CharField()
    source = serializers.CharField()
    phase = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    time_spent_s = serializers.IntegerField(allow_null=True)
    judgements = serializers.IntegerField()
    artworks = serializers.IntegerField()
    median_response_ms = serializers.FloatField(allow_null=True)
    attention_checks = serializers.IntegerField()
    attention_passed = serializers.IntegerField()
    agreement = serializers.FloatField(allow_null=True, help_text="Share of answers matching the others'")
    agreement_n = serializers.IntegerField()
    excluded = serializers.BooleanField(help_text="Excluded under the study's rules, as the report and exports say")
    exclusion_reason = serializers.CharField(allow_blank=True, help_text="The flag's own stored reason")
    exclusion_rules = serializers.ListField(child=serializers.CharField(),
                                            help_text="Rules that exclude: flagged, too_fast, attention")
    exclusion_reasons = serializers.ListField(child=serializers.CharField(), help_text="One reason per rule")
    warnings = serializers.ListField(child=serializers.CharField(),
                                     help_text="Signals no rule acts on: low agreement, failed checks")
    likely_exclusion = serializers.BooleanField(help_text="Excluded, or any warning")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="exclusion_reasons, then warnings")
