import re

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from .editing import dimension_spec
from .models import (
    Artwork,
    Assignment,
    AttentionCheck,
    Dimension,
    ExpertLabel,
    Judgement,
    Participant,
    Session,
    Study,
    StudyMember,
)
from .studies import StudySpecError, study_spec_validate


class DimensionAdminForm(forms.ModelForm):
    """A dimension edited in the admin passes the study file's checks (studies.py), as one edited in
    the study editor or through the API does: a dimension the participant pages cannot ask (a
    severity that is not a scale, a binary with three labels) is refused with the reason, not stored."""

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the form's values
        if not isinstance(self.instance.extra, dict):
            self.add_error("extra", "expected a JSON object: the study file's other fields by name")
            return
        try:
            study_spec_validate({"dimensions": [dimension_spec(self.instance)]})
        except StudySpecError as exc:
            for problem in exc.errors:
                self.add_error(None, re.sub(r"^dimensions\[0\]( \(.*?\))?: ", "", problem))
        except (ValueError, TypeError) as exc:  # e.g. a scale anchor that is not a point
            self.add_error(None, f"not a study-file dimension: {exc}")


class DimensionInline(admin.TabularInline):
    model = Dimension
    form = DimensionAdminForm
    extra = 0
    fields = ("position", "key", "kind", "level", "question")


class StudyMemberInline(admin.TabularInline):
    model = StudyMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "status", "items_per_session", "target_judgements_per_item", "created_at")
    list_filter = ("status",)
    search_fields = ("slug", "title")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [DimensionInline, StudyMemberInline]


@admin.register(Dimension)
class DimensionAdmin(admin.ModelAdmin):
    form = DimensionAdminForm
    list_display = ("key", "study", "kind", "level", "position")
    list_filter = ("kind", "level", "study")


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "external_id", "title", "artist", "style", "period", "origin", "generator", "study")
    list_filter = ("study", "origin", "period")
    search_fields = ("external_id", "title", "artist", "sha256")
    readonly_fields = ("sha256", "width", "height", "file_size")

    @admin.display(description="image")
    def thumbnail(self, artwork):
        if not artwork.image:
            return "-"
        return format_html('<img src="{}" style="height:48px">', (artwork.thumbnail or artwork.image).url)


@admin.register(ExpertLabel)
class ExpertLabelAdmin(admin.ModelAdmin):
    list_display = ("artwork", "dimension", "value", "source", "is_gold")
    list_filter = ("dimension__study", "dimension__key", "is_gold")


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("external_id", "source", "study", "excluded", "created_at")
    list_filter = ("study", "source", "excluded")
    search_fields = ("external_id",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("id", "participant", "study", "phase", "started_at", "completed_at")
    list_filter = ("study", "phase")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("session", "artwork", "position", "status", "is_attention_check", "held_until")
    list_filter = ("status", "is_attention_check")


@admin.register(Judgement)
class JudgementAdmin(admin.ModelAdmin):
    list_display = ("participant", "artwork", "dimension", "value", "response_ms", "created_at")
    list_filter = ("dimension__study", "dimension__key")
    raw_id_fields = ("participant", "artwork", "session")


@admin.register(AttentionCheck)
class AttentionCheckAdmin(admin.ModelAdmin):
    list_display = ("participant", "kind", "dimension", "expected", "answer", "passed", "answered_at")
    list_filter = ("kind", "passed", "dimension__study")
