"""REST API of CLIP runs and predictions, with the study pages' access rules (`StudyScoped`)."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api import StudyScoped
from annotations.import_jobs import import_result_json
from annotations.serializers import ErrorsSerializer, ImportFailedSerializer, ImportResultSerializer

from .models import ArtworkFailure, ClipRun, Prediction
from .runs import cliprun_cancel, cliprun_progress, cliprun_request


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_name = serializers.CharField()
    revision = serializers.CharField()
    status = serializers.CharField()
    active = serializers.BooleanField()
    is_stand_in = serializers.BooleanField(help_text="The offline stand-in model with random weights")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    percent = serializers.FloatField()
    throughput = serializers.FloatField(allow_null=True, help_text="Artworks per second")
    eta_s = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class RunStartSerializer(serializers.Serializer):
    model_name = serializers.CharField(max_length=200, help_text=(
        "One of the models this site offers (its operator lists them in CLIP_MODELS; artalign/tiny-clip is the"
        " offline stand-in). Any other name is refused (400) with the list."))
    batch_size = serializers.IntegerField(min_value=1, max_value=1024, required=False, allow_null=True)


class FailureSerializer(serializers.ModelSerializer):
    artwork = serializers.CharField(source="artwork.external_id")

    class Meta:
        model = ArtworkFailure
        fields = ["artwork", "reason", "created_at"]


class PredictionSerializer(serializers.ModelSerializer):
    artwork = serializers.CharField(source="artwork.external_id")
    dimension = serializers.CharField(source="dimension.key")
    probs = serializers.JSONField()
    label = serializers.JSONField()

    class Meta:
        model = Prediction
        fields = ["artwork", "dimension", "model_name", "revision", "method", "run", "probs", "label", "expected",
                  "prompts_hash", "created_at"]


class RunList(StudyScoped, generics.ListAPIView):
    """The study's runs, newest first; POST starts a zero-shot run (201; it has finished already when
    tasks run in-process, else it is queued: poll its detail)."""

    serializer_class = RunSerializer

    def get_queryset(self):
        return self.get_study().clip_runs.order_by("-created_at")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([cliprun_progress(run) for run in page])

    @extend_schema(request=RunStartSerializer, responses={201: RunSerializer, 400: ErrorsSerializer},
                   examples=[OpenApiExample("The offline stand-in", request_only=True,
                                            value={"model_name": "artalign/tiny-clip"})])
    def post(self, request, slug):
        study = self.get_study()
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        run = cliprun_request(study, values["model_name"], batch_size=values.get("batch_size"))
        return Response(RunSerializer(cliprun_progress(run)).data, status=status.HTTP_201_CREATED)


class RunScoped(StudyScoped):
    def get_run(self) -> ClipRun:
        return get_object_or_404(ClipRun, study=self.get_study(), pk=self.kwargs["run_id"])


class RunDetail(RunScoped, APIView):
    @extend_schema(responses=RunSerializer)
    def get(self, request, slug, run_id):
        return Response(RunSerializer(cliprun_progress(self.get_run())).data)


class RunCancel(RunScoped, APIView):
    """Cancel a queued or running run (409 when it is over already)."""

    @extend_schema(request=None, responses={200: RunSerializer, 409: ErrorsSerializer})
    def post(self, request, slug, run_id):
        run = self.get_run()
        if not cliprun_cancel(run):
            return Response({"errors": [f"run {run.pk} is {run.status}; it cannot be cancelled"]},
                            status=status.HTTP_409_CONFLICT)
        run.refresh_from_db()
        return Response(RunSerializer(cliprun_progress(run)).data)


class RunFailures(RunScoped, generics.ListAPIView):
    """Artworks the run could not score, with the reason."""

    serializer_class = FailureSerializer

    def get_queryset(self):
        return self.get_run().failures.select_related("artwork").order_by("id")


class PredictionFilterSerializer(serializers.Serializer):
    # Text fields refuse NUL characters (400), which PostgreSQL would refuse in a query (500).
    dimension = serializers.CharField(required=False, allow_blank=True, help_text="a dimension key")
    model = serializers.CharField(required=False, allow_blank=True, help_text="a model name")


class PredictionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV or parquet: model,artwork,dimension,label,p[,revision,method,prompt,value]")
    model_name = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                       help_text="the model's name, for a file without a 'model' column")
    create_artworks = serializers.BooleanField(required=False, default=False)
    skip_bad_rows = serializers.BooleanField(required=False, default=False)


@extend_schema(parameters=[PredictionFilterSerializer])
class PredictionList(StudyScoped, generics.ListAPIView):
    """Models' predictions with every label's probability; POST imports a predictions file computed
    elsewhere (`import_predictions`' service), stored as method "imported" with the file's sha256."""

    serializer_class = PredictionSerializer

    @extend_schema(parameters=[], request={"multipart/form-data": PredictionUploadSerializer},
                   responses={201: ImportResultSerializer, 400: ImportFailedSerializer})
    def post(self, request, slug):
        from .predictions_import import predictions_upload

        study = self.get_study()
        data = PredictionUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = predictions_upload(study, values["file"], model_name=values.get("model_name") or None,
                                    create_artworks=values["create_artworks"], skip_bad_rows=values["skip_bad_rows"])
        return Response(ImportResultSerializer(import_result_json(result)).data, status=status.HTTP_201_CREATED)

    def get_queryset(self):
        study = self.get_study()
        filters = PredictionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        predictions = (Prediction.objects.filter(dimension__study=study)
                       .select_related("artwork", "dimension").order_by("id"))
        if filters.validated_data.get("dimension"):
            predictions = predictions.filter(dimension__key=filters.validated_data["dimension"])
        if filters.validated_data.get("model"):
            predictions = predictions.filter(model_name=filters.validated_data["model"])
        return predictions
