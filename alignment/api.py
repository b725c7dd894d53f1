"""REST API of alignment reports (list, compute, read), the dashboard's per-artwork points, and the
exports, with the study pages' access rules (`StudyScoped`)."""
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api import StudyScoped
from annotations.serializers import ErrorsSerializer

from .bundle import KINDS, export_file
from .dashboard import dimension_points, stratum_parse
from .loader import report_latest
from .models import Report
from .report_figures import json_ready
from .reports import SEED_MAX, ReportOptions, report_create


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "created_at", "seed", "n_boot", "content_sha256", "inputs"]


class ReportOptionsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(default=0, min_value=0, max_value=SEED_MAX)
    n_boot = serializers.IntegerField(default=1000, min_value=1, max_value=20000)
    exclude_fast_ms = serializers.IntegerField(default=None, allow_null=True, min_value=0,
                                               help_text="Too-fast rule in ms; null: the study's rule, 0: off")
    min_attention_pass = serializers.FloatField(default=None, allow_null=True, min_value=0, max_value=1,
                                                help_text="Attention pass-rate rule; null: the study's rule, 0: off")
    min_stratum_items = serializers.IntegerField(default=10, min_value=1)


class ReportList(StudyScoped, generics.ListAPIView):
    """Stored reports, newest first (without their content); POST computes and stores a new one."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        return self.get_study().alignment_reports.order_by("-created_at", "-id")

    @extend_schema(request=ReportOptionsSerializer, responses={201: ReportSerializer, 400: ErrorsSerializer})
    def post(self, request, slug):
        study = self.get_study()
        data = ReportOptionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_create(study, ReportOptions(**data.validated_data))
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


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
