"""The alignment dashboard (the latest stored report as charts and figures, filterable by stratum),
the "compute report" button, and the export downloads."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from annotations.errors import refusals_as_messages
from annotations.selectors import study_for_user

from .bundle import KINDS, export_file
from .dashboard import dashboard_page, stratum_parse
from .forms import ReportOptionsForm
from .jobs import report_job_current, report_job_progress, report_job_start
from .loader import report_latest
from .models import ReportJob


@login_required
def dashboard(request, slug: str):
    study = study_for_user(request.user, slug)
    report = report_latest(study)
    job = report_job_current(study)
    context = {"study": study, "report": report, "form": ReportOptionsForm(), "tab": "alignment",
               "job": report_job_progress(job) if job is not None else None}
    if report is not None:
        content = report.content
        keys = list(content["dimensions"])
        key = request.GET.get("dimension") if request.GET.get("dimension") in keys else (keys[0] if keys else "")
        stratum = stratum_parse(request.GET.get("stratum"))
        context |= {
            "content": content, "keys": keys, "key": key, "stratum": stratum,
            "stratum_raw": request.GET.get("stratum", ""),
            "form": ReportOptionsForm(initial=ReportOptionsForm.initial_from(content["options"])),
        } | dashboard_page(study, content, key, stratum)
    return render(request, "alignment/dashboard.html", context)


@require_POST
@login_required
@refusals_as_messages("alignment:dashboard")
def report_compute(request, slug: str):
    study = study_for_user(request.user, slug, write=True)
    form = ReportOptionsForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("alignment:dashboard", study.slug)
    report_job_start(study, form.options(), request.user)
    return redirect("alignment:dashboard", study.slug)


@require_GET
@login_required
def report_job_json(request, slug: str, job_id: int):
    """The compute panel's progress, polled by the dashboard until the job is no longer active."""
    study = study_for_user(request.user, slug)
    job = get_object_or_404(ReportJob, study=study, pk=job_id)
    progress = report_job_progress(job)
    html = render_to_string("alignment/_report_job.html", {"job": progress})
    return JsonResponse(progress | {"html": html}, encoder=DjangoJSONEncoder)


@login_required
def exports(request, slug: str):
    study = study_for_user(request.user, slug)
    return render(request, "alignment/exports.html",
                  {"study": study, "report": report_latest(study), "tab": "exports"})


@require_GET
@login_required
@refusals_as_messages("alignment:exports")
def export_download(request, slug: str, kind: str):
    study = study_for_user(request.user, slug)
    if kind not in KINDS:
        raise Http404("No such export")
    exported = export_file(study, kind)
    response = HttpResponse(exported.data, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-{exported.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
