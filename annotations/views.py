"""Researcher pages of a study: list, create, edit, upload, open/close, members, progress.

Views handle HTTP only: `study_for_user` decides access (404 for outsiders, 403 for viewers on
writes), a form validates, one service does the work, the page shows each problem it reports.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from .editing import (
    participant_link,
    study_failed_artworks_remove,
    study_fetch_progress,
    study_member_remove,
    study_member_set,
    study_spec_yaml,
    study_status_set,
    study_update,
)
from .errors import Refused, refusals_as_messages
from .forms import ArtworkUploadForm, JudgementUploadForm, MemberForm, StatusForm, StudyCreateForm, StudySpecForm
from .models import ImportJob
from .progress import participants_progress, study_progress
from .selectors import studies_for_user, study_artworks, study_for_user, study_summary
from .studies import study_create, study_spec_parse, study_spec_read, study_template_load
from .study_list import study_list_rows
from .svg import histogram_svg
from .tables import ImportFailed
from .uploads import artworks_upload, judgements_upload


def home(request):
    return redirect("annotations:study_list")


@login_required
def study_list(request):
    return render(request, "annotations/study_list.html", {"rows": study_list_rows(studies_for_user(request.user))})


@login_required
def study_create_view(request):
    form = StudyCreateForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["study_file"]:
                spec = study_spec_read(data["study_file"], source=data["study_file"].name)
            else:
                spec = study_template_load(data["template"])
            if data["title"]:
                spec["title"] = data["title"]
            study = study_create(spec, data["slug"], owner=request.user,
                                 template="" if data["study_file"] else data["template"])
        except Refused as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Created study {study.slug}. Next: upload artworks, then open it.")
            return redirect("annotations:study_detail", study.slug)
    return render(request, "annotations/study_create.html", {"form": form, "errors": errors},
                  status=400 if errors else 200)


def _link(request, study) -> str:
    return participant_link(request.build_absolute_uri(reverse("annotations:session_entry", args=[study.slug])))


@login_required
def study_detail(request, slug: str):
    study = study_for_user(request.user, slug)
    page = Paginator(study_artworks(study), 48).get_page(request.GET.get("page"))
    return render(request, "annotations/study_detail.html", {
        "study": study, "summary": study_summary(study), "page": page, "participant_link": _link(request, study),
        "members": study.members.select_related("user"), "member_form": MemberForm(), "tab": "overview",
        "fetch": study_fetch_progress(study)})


@login_required
def study_edit(request, slug: str):
    study = study_for_user(request.user, slug, write=request.method == "POST")
    form = StudySpecForm(request.POST or None, initial={"spec": study_spec_yaml(study)})
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            study_update(study, study_spec_parse(form.cleaned_data["spec"]))
        except Refused as exc:
            errors = exc.errors
        else:
            messages.success(request, "Saved the study file.")
            return redirect("annotations:study_edit", study.slug)
    return render(request, "annotations/study_edit.html",
                  {"study": study, "form": form, "errors": errors, "tab": "edit"}, status=400 if errors else 200)


@login_required
def study_upload(request, slug: str):
    """Artworks (manifest + ZIP or URLs) and judgements (long CSV), through the import services."""
    study = study_for_user(request.user, slug, write=request.method == "POST")
    which = request.POST.get("which", "")
    artwork_form = ArtworkUploadForm(request.POST if which == "artworks" else None,
                                     request.FILES if which == "artworks" else None)
    judgement_form = JudgementUploadForm(request.POST if which == "judgements" else None,
                                         request.FILES if which == "judgements" else None)
    result, failed = None, None
    try:
        if which == "artworks" and artwork_form.is_valid():
            data = artwork_form.cleaned_data
            result = artworks_upload(study, data["manifest"], data["images"], url_column=data["url_column"],
                                     defer_download=data["defer_download"], skip_bad_rows=data["skip_bad_rows"],
                                     user=request.user)
        elif which == "judgements" and judgement_form.is_valid():
            data = judgement_form.cleaned_data
            result = judgements_upload(study, data["judgements"], create_artworks=data["create_artworks"],
                                       skip_bad_rows=data["skip_bad_rows"], user=request.user)
    except ImportFailed as exc:  # its errors name rows and fields
        failed = exc
    if isinstance(result, ImportJob):  # a large upload: its page shows the job's progress
        return redirect(f"{reverse('annotations:study_upload', args=[study.slug])}?job={result.pk}")
    job_id = request.GET.get("job", "")
    job = study.import_jobs.filter(pk=job_id).first() if job_id.isdecimal() and len(job_id) < 19 else None
    status = 400 if failed else 200
    return render(request, "annotations/study_upload.html", {
        "study": study, "artwork_form": artwork_form, "judgement_form": judgement_form, "which": which,
        "result": result, "failed": failed and failed.errors, "failed_total": failed and failed.total,
        "job": job, "tab": "upload"}, status=status)


@require_GET
@login_required
def study_import_json(request, slug: str, job_id: int):
    """The upload page's poll while a large import runs: the job panel as HTML to swap in."""
    study = study_for_user(request.user, slug)
    job = get_object_or_404(study.import_jobs, pk=job_id)
    return JsonResponse({"active": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
                         "status": job.status, "rows_done": job.rows_done, "rows_total": job.rows_total,
                         "html": render_to_string("annotations/_import_job.html", {"study": study, "job": job},
                                                  request=request)})


@require_POST
@login_required
@refusals_as_messages("annotations:study_detail")
def study_status(request, slug: str):
    study = study_for_user(request.user, slug, write=True)
    form = StatusForm(request.POST)
    if form.is_valid():
        study_status_set(study, form.cleaned_data["status"])
        if study.open_requested:
            messages.info(request, "Fetching the artworks' images from their URLs: the study opens once every"
                                   " one is in (progress below).")
        else:
            messages.success(request, f"The study is {study.get_status_display().lower()}.")
    return redirect("annotations:study_detail", study.slug)


@require_GET
@login_required
def study_fetch_json(request, slug: str):
    """The overview's poll while an open request fetches images: the panel as HTML to swap in."""
    study = study_for_user(request.user, slug)
    fetch = study_fetch_progress(study)
    return JsonResponse({"active": fetch["fetching"], "fetch": fetch,
                         "html": render_to_string("annotations/_fetch.html", {"study": study, "fetch": fetch},
                                                  request=request)})


@require_POST
@login_required
def study_failed_artworks(request, slug: str):
    """Remove the artworks whose download failed, so that the study can open without them."""
    study = study_for_user(request.user, slug, write=True)
    removed = study_failed_artworks_remove(study)
    messages.success(request, f"Removed {removed} artwork{'s' if removed != 1 else ''} whose image could not be"
                              " fetched.")
    return redirect("annotations:study_detail", study.slug)


@require_POST
@login_required
@refusals_as_messages("annotations:study_detail")
def study_members(request, slug: str):
    study = study_for_user(request.user, slug, write=True)
    if "remove" in request.POST:
        study_member_remove(study, request.POST["remove"])
        return redirect("annotations:study_detail", study.slug)
    form = MemberForm(request.POST)
    if form.is_valid():
        study_member_set(study, form.cleaned_data["username"], form.cleaned_data["role"])
    return redirect("annotations:study_detail", study.slug)


def _progress_context(study) -> dict:
    progress = study_progress(study)
    bins = [(str(b["judges"]), b["artworks"]) for b in progress["histogram"]]
    return {"study": study, "progress": progress, "participants": participants_progress(study),
            "histogram": mark_safe(histogram_svg(bins, x_title="people who judged the artwork", y_title="artworks",
                                       highlight_from=progress["target_per_artwork"]))}


@login_required
def study_progress_view(request, slug: str):
    study = study_for_user(request.user, slug)
    return render(request, "annotations/study_progress.html", _progress_context(study) | {"tab": "progress"})


@require_GET
@login_required
def study_progress_json(request, slug: str):
    """The page's poll: the figures, and the progress panel as HTML to swap in."""
    study = study_for_user(request.user, slug)
    context = _progress_context(study)
    return JsonResponse({"active": study.status == study.Status.OPEN,
                         "progress": context["progress"], "participants": context["participants"],
                         "html": render_to_string("annotations/_progress.html", context, request=request)},
                        encoder=DjangoJSONEncoder)
