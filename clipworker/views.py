"""Researcher pages of CLIP runs: start one for a chosen model, watch its progress, cancel it, read
its failures. Access goes through `study_for_user` like every study page."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from annotations.errors import refusals_as_messages
from annotations.selectors import study_for_user

from .forms import ClipRunForm
from .models import ClipRun
from .runs import (
    STAND_IN_NAME,
    STAND_IN_NOTE,
    clip_models_offered,
    cliprun_cancel,
    cliprun_progress,
    cliprun_request,
)


@login_required
def run_list(request, slug: str):
    study = study_for_user(request.user, slug)
    runs = Paginator(study.clip_runs.order_by("-created_at"), 25).get_page(request.GET.get("page"))
    return render(request, "clipworker/run_list.html", {
        "study": study, "runs": runs, "progress": [cliprun_progress(r) for r in runs], "form": ClipRunForm(),
        "models": clip_models_offered(), "stand_in": STAND_IN_NAME, "stand_in_note": STAND_IN_NOTE, "tab": "clip"})


@require_POST
@login_required
@refusals_as_messages("clipworker:run_list", prefix="The run was not started: ")
def run_start(request, slug: str):
    study = study_for_user(request.user, slug, write=True)
    form = ClipRunForm(request.POST)
    if form.is_valid():
        run = cliprun_request(study, form.cleaned_data["model_name"], batch_size=form.cleaned_data["batch_size"])
        return redirect("clipworker:run_detail", study.slug, run.pk)
    for field, errors in form.errors.items():
        messages.error(request, f"{field}: {' '.join(errors)}")
    return redirect("clipworker:run_list", study.slug)


def _run(request, slug: str, run_id: int, *, write: bool = False) -> ClipRun:
    study = study_for_user(request.user, slug, write=write)
    run = get_object_or_404(ClipRun, study=study, pk=run_id)
    run.study = study  # keeps the role set by study_for_user
    return run


@login_required
def run_detail(request, slug: str, run_id: int):
    run = _run(request, slug, run_id)
    failures = Paginator(run.failures.select_related("artwork").order_by("id"), 50).get_page(request.GET.get("page"))
    return render(request, "clipworker/run_detail.html", {
        "study": run.study, "run": run, "progress": cliprun_progress(run), "failures": failures,
        "stand_in_note": STAND_IN_NOTE, "tab": "clip"})


@require_GET
@login_required
def run_progress_json(request, slug: str, run_id: int):
    run = _run(request, slug, run_id)
    progress = cliprun_progress(run)
    html = render_to_string("clipworker/_run_progress.html", {"progress": progress, "stand_in_note": STAND_IN_NOTE})
    return JsonResponse(progress | {"failures_count": run.failures.count(), "html": html}, encoder=DjangoJSONEncoder)


@require_POST
@login_required
def run_cancel(request, slug: str, run_id: int):
    run = _run(request, slug, run_id, write=True)
    if cliprun_cancel(run):
        messages.success(request, f"Run {run.pk} cancelled; batches already started finish their work.")
    else:
        messages.error(request, f"Run {run.pk} is {run.status}; only queued or running runs can be cancelled.")
    return redirect("clipworker:run_detail", run.study.slug, run.pk)
