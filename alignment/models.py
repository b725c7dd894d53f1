"""Stored alignment reports: the format-independent JSON a report was built as, and what it was built from.

`content_json` is the whole report as JSON text (the shape is documented in docs/report-schema.md);
it holds no timestamp or row id, so the same inputs and seed give byte-identical JSON. It is kept as
text, not as a JSON column, because PostgreSQL's jsonb reorders keys: the stored text is exactly what
`alignment_report --format json` wrote, and `content_sha256` can be checked against it. When and
which row are kept beside it (`created_at`, `id`); `inputs` is a queryable copy of content["inputs"].
"""
import json

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models import Study


class Report(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="alignment_reports")
    created_at = models.DateTimeField(auto_now_add=True)
    seed = models.BigIntegerField(help_text="Seed of the bootstrap intervals")
    n_boot = models.PositiveIntegerField(help_text="Bootstrap resamples per interval")
    content_json = models.TextField(help_text="The report, exactly as `alignment_report --format json` writes it")
    inputs = models.JSONField(help_text="What the report was computed from (also under content['inputs'])")
    content_sha256 = models.CharField(max_length=64, help_text="sha256 of `content_json` (UTF-8)")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(n_boot__gte=1), name="report_n_boot_positive")]
        indexes = [models.Index(fields=["study", "created_at"])]

    def __str__(self) -> str:
        return f"report {self.pk} on {self.study} (seed {self.seed}, {self.n_boot} resamples)"

    @property
    def content(self) -> dict:
        """The report as a dict, in the order it was built."""
        return json.loads(self.content_json)


class ReportJob(models.Model):
    """One "compute report" request, computed by a Celery task (`alignment.tasks.report_job_run`) so
    that a large study never holds a web worker: its state and progress, which the dashboard polls,
    and the report it stored."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="report_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    options = models.JSONField(help_text="The report options asked for (ReportOptions as a dict)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=200, blank=True, help_text="What the task is doing now")
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "created_at"])]

    def __str__(self) -> str:
        return f"report job {self.pk} on {self.study} ({self.status})"
