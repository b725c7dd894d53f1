"""CLIP's side: stored image embeddings, runs, and per-label predictions.

An embedding is computed (or imported) once per (artwork, model, revision) and reused by every
dimension; a prediction keeps the probability of every label, not only the chosen one.
"""
import numpy as np
from django.db import models
from django.db.models import Q

from annotations.models import Artwork, Dimension, Study


class Embedding(models.Model):
    class Source(models.TextChoices):
        COMPUTED = "computed"
        IMPORTED = "imported"

    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="embeddings")
    model_name = models.CharField(max_length=200)
    revision = models.CharField(max_length=64, blank=True, help_text="Checkpoint revision; empty when imported")
    dim = models.PositiveIntegerField()
    vector = models.BinaryField(help_text="L2-normalised float32, little-endian")
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artwork", "model_name", "revision"], name="embedding_once_per_model"),
            models.CheckConstraint(condition=Q(dim__gte=1), name="embedding_dim_positive"),
        ]
        indexes = [models.Index(fields=["model_name", "revision"])]

    def __str__(self) -> str:
        return f"{self.model_name}@{self.revision or 'imported'} {self.artwork}"

    @staticmethod
    def pack(vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype="<f4").tobytes()

    def array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype="<f4")


class ClipRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="clip_runs")
    model_name = models.CharField(max_length=200)
    revision = models.CharField(max_length=64, blank=True)
    is_stand_in = models.BooleanField(default=False, help_text="Computed with the offline tiny stand-in CLIP")
    scoring = models.JSONField(default=dict, blank=True,
                               help_text="How label scores became probabilities: family, scores, normalisation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    batch_size = models.PositiveIntegerField(default=32)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="cliprun_done_le_total")]

    def __str__(self) -> str:
        return f"run {self.pk} {self.model_name} on {self.study}"

    @property
    def throughput(self) -> float | None:
        """Artworks per second between start and finish (or now, while running)."""
        if not self.started_at or not self.finished_at:
            return None
        seconds = (self.finished_at - self.started_at).total_seconds()
        return (self.done + self.failed) / seconds if seconds > 0 else None


class Prediction(models.Model):
    class Method(models.TextChoices):
        ZERO_SHOT = "zero-shot"
        PROBE = "probe"
        IMPORTED = "imported"  # computed elsewhere, attached by import_predictions
        TRANSFER = "transfer"  # a stored probe trained on another study (clipworker.probes)

    run = models.ForeignKey(ClipRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="predictions")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="predictions")
    model_name = models.CharField(max_length=200)
    revision = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.ZERO_SHOT)
    probs = models.JSONField(help_text="Probability of every label (multi: of every tag)")
    label = models.JSONField(help_text="Chosen label; a list of tags for multi-label")
    expected = models.FloatField(null=True, blank=True, help_text="Expected rating, for rating dimensions")
    prompts_hash = models.CharField(max_length=64)
    source = models.ForeignKey("PredictionImport", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="predictions", help_text="The file an imported prediction came from")
    probe = models.ForeignKey("StoredProbe", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="predictions", help_text="The stored probe of a transfer prediction")
    by_template = models.JSONField(default=dict, blank=True,
                                   help_text="Zero-shot: {template: {probs, label, expected}}, each template alone")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["artwork", "dimension", "model_name", "revision", "method"], name="prediction_once_per_model"
            ),
        ]
        indexes = [models.Index(fields=["dimension", "model_name"])]

    def __str__(self) -> str:
        return f"{self.model_name} {self.method} {self.artwork} {self.dimension.key}={self.label}"


class PredictionImport(models.Model):
    """One predictions file imported for one model: its provenance (sha256 of the file's bytes)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="prediction_imports")
    model_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    n_rows = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True, help_text="e.g. the file's own method column values")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.model_name} predictions from {self.file_name or 'a file'} (sha256 {self.sha256[:12]})"


class StoredProbe(models.Model):
    """A logistic-regression probe trained on one study's embeddings, kept as plain arrays (never a
    pickle) with its provenance, to be applied to any study holding embeddings of the same model."""

    name = models.CharField(max_length=200)
    train_study = models.ForeignKey(Study, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="trained_probes")
    train_study_slug = models.CharField(max_length=100, help_text="Kept when the study is gone or the probe imported")
    embedding_model = models.CharField(max_length=200)
    embedding_revision = models.CharField(max_length=64, blank=True)
    dimension_key = models.CharField(max_length=50)
    target = models.CharField(max_length=200, help_text="expert | majority | field | field:NAME")
    group_by = models.CharField(max_length=200, blank=True)
    classes = models.JSONField(help_text="Class labels, in the order of the coefficients' rows")
    C = models.FloatField(help_text="Inverse L2 regularisation strength")
    coef = models.JSONField(help_text="(1 or K, d) coefficients on L2-normalised embeddings")
    intercept = models.JSONField(help_text="(1 or K,) intercepts")
    n_train = models.PositiveIntegerField()
    cv = models.JSONField(default=dict, blank=True, help_text="Grouped cross-validation figures on the training study")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the file it was imported from, if any")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"probe {self.name} ({self.embedding_model} -> {self.dimension_key}, trained on {self.train_study_slug})"


class ArtworkFailure(models.Model):
    """An artwork a run could not score (e.g. an image that cannot be decoded), with the reason."""

    run = models.ForeignKey(ClipRun, on_delete=models.CASCADE, related_name="failures")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="clip_failures")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "artwork"], name="failure_once_per_run")]

    def __str__(self) -> str:
        return f"{self.artwork} not scored in run {self.run_id}: {self.reason}"
