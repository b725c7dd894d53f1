"""REST API of alignment reports (list, compute, read), the dashboard's per-artwork points, and the
exports, with the study pages' access rules (`StudyScoped`)."""
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api import StudyScoped
from annotations.serializers import ErrorsSerializer

from .bundle import KINDS, export_file
from .dashboard import dimension_points, stratum_parse
from .jobs import report_job_progress, report_job_start
from .loader import report_latest
from .models import Report, ReportJob
from .report_figures import json_ready
from .reports import SEED_MAX, ReportOptions


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "created_at", "seed", "n_boot", "content_sha256", "inputs"]


class ReportJobSerializer(serializers.ModelSerializer):
    percent = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = ["id", "url", "status", "stage", "step", "steps", "percent", "report", "error", "options",
                  "created_at", "started_at", "finished_at"]

    def get_percent(self, job) -> int:
        return report_job_progress(job)["percent"]

    def get_url(self, job) -> str:
        return reverse("api:report-job-detail", args=[job.study.slug, job.pk])


class ReportOptionsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(default=0, min_value=0, max_value=SEED_MAX)
    n_boot = serializers.IntegerField(default=1000, min_value=1, max_value=20000)
    exclude_fast_ms = serializers.IntegerField(default=None, allow_null=True, min_value=0,
                                               help_text="Too-fast rule in ms; null: the study's rule, 0: off")
    min_attention_pass = serializers.FloatField(default=None, allow_null=True, min_value=0, max_value=1,
                                                help_text="Attention pass-rate rule; null: the study's rule, 0: off")
    min_stratum_items = serializers.IntegerField(default=10, min_value=1)


class ReportList(StudyScoped, generics.ListAPIView):
    """Stored reports, newest first (without their content); POST queues the computation of a new one."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        return self.get_study().alignment_reports.order_by("-created_at", "-id")

    @extend_schema(request=ReportOptionsSerializer, responses={202: ReportJobSerializer, 400: ErrorsSerializer,
                                                               503: ErrorsSerializer})
    def post(self, request, slug):
        """Queue the report's computation (a Celery task) and answer at once with the job; poll its
        `url` until `status` is done (then `report` is the new report's id) or failed (`error`)."""
        study = self.get_study()
        data = ReportOptionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = report_job_start(study, ReportOptions(**data.validated_data), request.user)
        body = ReportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class ReportJobDetail(StudyScoped, APIView):
    """A report computation queued by POST reports/: its status and progress, and the report it stored."""

    @extend_schema(responses={200: ReportJobSerializer})
    def get(self, request, slug, report_job_id):
        job = get_object_or_404(ReportJob, study=self.get_study(), pk=report_job_id)
        return Response(ReportJobSerializer(job, context={"request": request}).data)


class ReportDetail(StudyScoped, APIView):
    """One report's content (docs/report-schema.md); `latest` for the newest."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, slug, report_id):
        study = self.get_study()
        if report_id == "latest":
            report = report_latest(study)
            if report is None:
                raise Http404("No stored report")
        elif report_id.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
            report = get_object_or_404(Report, study=study, pk=int(report_id))
        else:
            raise Http404("No such report")
        return Response({"id": report.pk, "created_at": report.created_at, "content": report.content})


class DimensionPoints(StudyScoped, APIView):
    """Per artwork, for the latest report's options: human mean against each model's score (the
    scatters), shares against P(label), and the largest disagreements; `stratum=field=value` filters."""

    @extend_schema(parameters=[OpenApiParameter("stratum", str, description="e.g. origin=ai")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, slug, dimension):
        study = self.get_study()
        report = report_latest(study)
        if report is None:
            raise Http404("No stored report")
        found = dimension_points(study, report, dimension, stratum_parse(request.query_params.get("stratum")))
        if found is None:
            raise Http404("No such dimension")
        return Response(json_ready(found))


class ExportDownload(StudyScoped, APIView):
    """A file: judgements, predictions, participants, attention-checks (CSV), report-json, report-html,
    or bundle (ZIP with manifest.json)."""

    @extend_schema(parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(KINDS))],
                   responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.OBJECT,
                              (200, "text/html"): OpenApiTypes.STR, (200, "application/zip"): OpenApiTypes.BINARY,
                              404: ErrorsSerializer})
    def get(self, request, slug, kind):
        study = self.get_study()
        if kind not in KINDS:
            raise Http404("No such export")
        exported = export_file(study, kind)
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-{exported.name}"'
        return response
