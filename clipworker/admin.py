from django.contrib import admin

from .models import ArtworkFailure, ClipRun, Embedding, Prediction


@admin.register(Embedding)
class EmbeddingAdmin(admin.ModelAdmin):
    list_display = ("artwork", "model_name", "revision", "dim", "source", "created_at")
    list_filter = ("model_name", "source")
    raw_id_fields = ("artwork",)
    exclude = ("vector",)


@admin.register(ClipRun)
class ClipRunAdmin(admin.ModelAdmin):
    list_display = ("id", "study", "model_name", "is_stand_in", "status", "done", "failed", "total", "created_at")
    list_filter = ("status", "model_name", "is_stand_in")


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("artwork", "dimension", "model_name", "method", "label", "expected")
    list_filter = ("model_name", "method", "dimension__key")
    raw_id_fields = ("artwork", "run")


@admin.register(ArtworkFailure)
class ArtworkFailureAdmin(admin.ModelAdmin):
    list_display = ("run", "artwork", "reason", "created_at")
