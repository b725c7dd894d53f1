"""The REST API under /api/: every endpoint needs a token or a logged-in session (annotators have
neither), and study-scoped ones apply the researcher pages' access rules."""
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from alignment import api as alignment_api
from annotations import api as annotations_api
from annotations.api_errors import TOO_MANY_REQUESTS
from clipworker import api as clipworker_api

app_name = "api"
STUDY = "studies/<slug:slug>/"


class Root(APIView):
    """Where to start: the studies, the schema and its docs."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({name: reverse(f"api:{name}", request=request)
                         for name in ("study-list", "schema", "docs", "redoc")})


@extend_schema_view(post=extend_schema(responses={200: AuthTokenSerializer, 429: TOO_MANY_REQUESTS}))
class TokenCreate(ObtainAuthToken):
    """POST username and password, get your API token (send it as `Authorization: Token <key>`)."""

    permission_classes = []

    def get_serializer_context(self):
        # Django's request, not DRF's wrapper: django-axes flags a lockout on it, and its middleware
        # then answers 429 with Retry-After (config.middleware.login_locked_out).
        return {**super().get_serializer_context(), "request": self.request._request}


@csrf_exempt
def not_found(request):
    """A path under /api/ that names no endpoint (e.g. a study slug with characters a slug cannot have)
    answers in JSON like the endpoints' own 404s, not with the site's HTML page (routed in config/urls.py,
    after the API, for paths ending in a slash: Django redirects the others to theirs first, APPEND_SLASH)."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", Root.as_view(), name="root"),
    path("auth/token/", TokenCreate.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),  # its script a file (CSP)
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("studies/", annotations_api.StudyList.as_view(), name="study-list"),
    path(STUDY, annotations_api.StudyDetail.as_view(), name="study-detail"),
    path(STUDY + "spec/", annotations_api.StudySpec.as_view(), name="study-spec"),
    path(STUDY + "status/", annotations_api.StudyStatus.as_view(), name="study-status"),
    path(STUDY + "members/", annotations_api.MemberList.as_view(), name="member-list"),
    path(STUDY + "members/<str:username>/", annotations_api.MemberDetail.as_view(), name="member-detail"),
    path(STUDY + "artworks/", annotations_api.ArtworkList.as_view(), name="artwork-list"),
    path(STUDY + "judgements/", annotations_api.JudgementList.as_view(), name="judgement-list"),
    path(STUDY + "imports/<int:job_id>/", annotations_api.ImportJobDetail.as_view(), name="import-detail"),
    path(STUDY + "progress/", annotations_api.Progress.as_view(), name="progress"),
    path(STUDY + "participants/", annotations_api.ParticipantList.as_view(), name="participant-list"),
    path(STUDY + "clip-runs/", clipworker_api.RunList.as_view(), name="run-list"),
    path(STUDY + "clip-runs/<int:run_id>/", clipworker_api.RunDetail.as_view(), name="run-detail"),
    path(STUDY + "clip-runs/<int:run_id>/cancel/", clipworker_api.RunCancel.as_view(), name="run-cancel"),
    path(STUDY + "clip-runs/<int:run_id>/failures/", clipworker_api.RunFailures.as_view(), name="run-failures"),
    path(STUDY + "predictions/", clipworker_api.PredictionList.as_view(), name="prediction-list"),
    path(STUDY + "reports/", alignment_api.ReportList.as_view(), name="report-list"),
    path(STUDY + "reports/<str:report_id>/", alignment_api.ReportDetail.as_view(), name="report-detail"),
    path(STUDY + "report-jobs/<int:report_job_id>/", alignment_api.ReportJobDetail.as_view(), name="report-job-detail"),
    path(STUDY + "alignment/<slug:dimension>/points/", alignment_api.DimensionPoints.as_view(), name="points"),
    path(STUDY + "exports/<slug:kind>/", alignment_api.ExportDownload.as_view(), name="export"),
]
