"""REST API: studies, their study file, status, members, artworks, judgements, progress, participants.

Every study-scoped endpoint loads its study through `study_for_user` (404 for outsiders, 403 for
viewers on writes); anonymous requests, annotators' included, get 401 (settings: IsAuthenticated).
"""
from django.conf import settings
from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from . import serializers as s
from .editing import (
    StudyChangeRefused,
    study_fetch_progress,
    study_member_remove,
    study_member_set,
    study_spec_dump,
    study_spec_from_json,
    study_spec_yaml,
    study_status_set,
    study_update,
)
from .import_jobs import import_result_json
from .models import ImportJob, Judgement
from .progress import participants_progress, study_progress
from .selectors import OWNER, studies_for_user, study_for_user
from .studies import StudySpecError, study_create, study_file_size_problems, study_spec_parse, study_template_load
from .uploads import artworks_upload, judgements_upload


class StudyScoped:
    """The study named by the URL's slug, as `study_for_user` allows it for this request's method."""

    def get_study(self):
        if not hasattr(self, "_study"):
            self._study = study_for_user(self.request.user, self.kwargs["slug"],
                                         write=self.request.method not in SAFE_METHODS)
        return self._study


def _errors(errors, code=status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"errors": list(errors)}, status=code)


def _study_file_body_too_big(request) -> Response | None:
    """A request that carries a study file, refused before its JSON is parsed when it is over twice
    the study file's limit (room for JSON's escapes of YAML text); the file itself is measured after."""
    size = int(request.META.get("CONTENT_LENGTH") or 0)
    return _errors(study_file_size_problems(size)) if size > 2 * settings.STUDY_FILE_MAX_BYTES else None


def _import_answer(request, outcome) -> Response:
    """201 with the result; 202 with the job to poll for a large upload (its URL also in Location)."""
    if isinstance(outcome, ImportJob):
        data = s.ImportJobSerializer(outcome, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
    return Response(s.ImportResultSerializer(import_result_json(outcome)).data, status=status.HTTP_201_CREATED)


class StudyList(generics.ListCreateAPIView):
    """Studies you own or view; POST creates one (from a template or a study file) that you own."""

    serializer_class = s.StudySerializer

    def get_queryset(self):
        return studies_for_user(self.request.user).select_related("owner")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        roles = dict(request.user.study_memberships.values_list("study_id", "role"))
        for study in page:
            owns = request.user.is_superuser or study.owner_id == request.user.pk
            study.role = OWNER if owns else roles.get(study.pk)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.StudyCreateSerializer, responses={201: s.StudyDetailSerializer, 400: s.ErrorsSerializer},
                   examples=[OpenApiExample("From the template", request_only=True,
                                            value={"slug": "my-study", "template": "clip-art-perception"})])
    def post(self, request, *args, **kwargs):
        if refused := _study_file_body_too_big(request):
            return refused
        data = s.StudyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        spec = study_spec_from_json(values["spec"]) if "spec" in values else study_template_load(values["template"])
        if values.get("title"):
            spec["title"] = values["title"]
        study = study_create(spec, values["slug"], owner=request.user, template=values.get("template", ""))
        study.role = "owner"
        return Response(s.StudyDetailSerializer(study, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class StudyDetail(StudyScoped, generics.RetrieveAPIView):
    serializer_class = s.StudyDetailSerializer

    def get_object(self):
        return self.get_study()


class StudySpec(StudyScoped, APIView):
    """The study file: GET it (as JSON and YAML); PUT an edited one (validated, every problem listed)."""

    @extend_schema(responses=s.StudySpecSerializer)
    def get(self, request, slug):
        study = self.get_study()
        return Response({"spec": study_spec_dump(study), "yaml": study_spec_yaml(study)})

    @extend_schema(request=s.StudySpecSerializer, responses={200: s.StudySpecSerializer, 400: s.ErrorsSerializer})
    def put(self, request, slug):
        study = self.get_study()
        if refused := _study_file_body_too_big(request):
            return refused
        data = s.StudySpecSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data  # exactly one of the two (a JSON null is a 'spec' too)
        spec = values["spec"] if "spec" in values else study_spec_parse(values["yaml"])
        if not isinstance(spec, dict):
            raise StudySpecError(["expected a JSON object with a 'dimensions' list"])
        study_update(study, study_spec_from_json(spec))
        return Response({"spec": study_spec_dump(study), "yaml": study_spec_yaml(study)})


def _status(study) -> dict:
    return {"status": study.status, "open_requested": study.open_requested, "fetch": study_fetch_progress(study)}


class StudyStatus(StudyScoped, APIView):
    """The study's status and its images being fetched; POST opens, closes or reopens it (owners).

    Opening a study whose artworks wait for their deferred download answers 202 while a worker
    fetches them (GET follows the progress; the study opens once every image is in); a refusal is a
    400 with every reason and each failed download's artwork and reason.
    """

    @extend_schema(responses=s.StudyStatusSerializer)
    def get(self, request, slug):
        return Response(_status(self.get_study()))

    @extend_schema(request=s.StatusSerializer,
                   responses={200: s.StudyStatusSerializer, 202: s.StudyStatusSerializer,
                              400: s.StatusRefusedSerializer})
    def post(self, request, slug):
        study = self.get_study()
        data = s.StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            study_status_set(study, data.validated_data["status"])
        except StudyChangeRefused as exc:
            return Response({"errors": exc.errors, "failures": study_fetch_progress(study)["failures"]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(_status(study), status=status.HTTP_202_ACCEPTED if study.open_requested else status.HTTP_200_OK)


class MemberList(StudyScoped, generics.ListCreateAPIView):
    """Who else sees the study; owners add a viewer (or co-owner) by username."""

    serializer_class = s.MemberSerializer

    def get_queryset(self):
        return self.get_study().members.select_related("user").order_by("user__username")

    @extend_schema(request=s.MemberAddSerializer, responses={201: s.MemberSerializer, 400: s.ErrorsSerializer})
    def post(self, request, *args, **kwargs):
        study = self.get_study()
        data = s.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = study_member_set(study, data.validated_data["username"], data.validated_data["role"])
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetail(StudyScoped, APIView):
    @extend_schema(responses={204: None, 404: s.ErrorsSerializer})
    def delete(self, request, slug, username):
        study = self.get_study()
        # No username holds a NUL character (and PostgreSQL would refuse one in the query).
        if "\x00" in username or not study_member_remove(study, username):
            return _errors([f"{username!r} is not a member"], status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArtworkList(StudyScoped, generics.ListAPIView):
    """The study's artworks; POST uploads a manifest (CSV/parquet) with a ZIP of images or URLs."""

    serializer_class = s.ArtworkSerializer

    def get_queryset(self):
        return self.get_study().artworks.annotate(n_judgements=Count("judgements")).order_by("id")

    @extend_schema(request={"multipart/form-data": s.ArtworkUploadSerializer},
                   responses={201: s.ImportResultSerializer, 202: s.ImportJobSerializer, 400: s.ImportFailedSerializer})
    def post(self, request, slug):
        study = self.get_study()
        data = s.ArtworkUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        outcome = artworks_upload(study, values["manifest"], values.get("images"), url_column=values["url_column"],
                                  defer_download=values["defer_download"], skip_bad_rows=values["skip_bad_rows"],
                                  user=request.user)
        return _import_answer(request, outcome)


class JudgementList(StudyScoped, generics.ListAPIView):
    """Every judgement (long form); POST uploads a judgements CSV through `import_judgements`' service."""

    serializer_class = s.JudgementSerializer

    def get_queryset(self):
        return (Judgement.objects.filter(dimension__study=self.get_study())
                .select_related("participant", "artwork", "dimension").order_by("id"))

    @extend_schema(request={"multipart/form-data": s.JudgementUploadSerializer},
                   responses={201: s.ImportResultSerializer, 202: s.ImportJobSerializer, 400: s.ImportFailedSerializer})
    def post(self, request, slug):
        study = self.get_study()
        data = s.JudgementUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        outcome = judgements_upload(study, values["judgements"], create_artworks=values["create_artworks"],
                                    skip_bad_rows=values["skip_bad_rows"], user=request.user)
        return _import_answer(request, outcome)


class ImportJobDetail(StudyScoped, APIView):
    """A large upload being imported by a task (the upload answered 202 with this URL)."""

    @extend_schema(responses=s.ImportJobSerializer)
    def get(self, request, slug, job_id):
        job = get_object_or_404(self.get_study().import_jobs, pk=job_id)
        return Response(s.ImportJobSerializer(job, context={"request": request}).data)


class Progress(StudyScoped, APIView):
    """Judgements against the target: overall, per dimension, and people per artwork."""

    @extend_schema(responses=s.ProgressSerializer)
    def get(self, request, slug):
        return Response(s.ProgressSerializer(study_progress(self.get_study())).data)


class ParticipantList(StudyScoped, generics.ListAPIView):
    """Participants with time spent, attention checks, agreement with the others, likely exclusion."""

    serializer_class = s.ParticipantProgressSerializer

    def get_queryset(self):
        return participants_progress(self.get_study())
