from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from .selectors import studies_for_user, study_artworks, study_for_user, study_summary


def home(request):
    return redirect("annotations:study_list")


@login_required
def study_list(request):
    return render(request, "annotations/study_list.html", {"studies": studies_for_user(request.user)})


@login_required
def study_detail(request, slug: str):
    study = study_for_user(request.user, slug)
    page = Paginator(study_artworks(study), 48).get_page(request.GET.get("page"))
    return render(request, "annotations/study_detail.html",
                  {"study": study, "summary": study_summary(study), "page": page})
