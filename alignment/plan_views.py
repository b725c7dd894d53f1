"""The power-planning page: the study's pilot (or a stated alpha) simulated at N annotators per
artwork and M artworks (`planning.study_plan`), as a table and a chart per dimension."""
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from annotations.errors import Refused
from annotations.selectors import study_for_user

from .loader import study_dimensions
from .planning import MAX_CELLS, PLANNED_KINDS, PlanRequest, study_plan
from .render_plan import plan_rows, plan_svg


def _numbers(raw: str) -> list[int]:
    try:
        values = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise forms.ValidationError("comma-separated whole numbers, e.g. 2,3,5") from None
    if not values or len(values) > MAX_CELLS:
        raise forms.ValidationError(f"between 1 and {MAX_CELLS} numbers")
    return values


class PlanForm(forms.Form):
    target_width = forms.FloatField(initial=0.1, min_value=0.005, max_value=1.99,
                                    help_text="Width of alpha's 95% interval to reach")
    ns = forms.CharField(initial="2,3,5,8", label="N (people per artwork)", max_length=100)
    ms = forms.CharField(initial="25,50,100,200", label="M (artworks)", max_length=100)
    alpha = forms.FloatField(required=False, min_value=0, max_value=1, label="Expected alpha",
                             help_text="Empty: the pilot's (this study's judgements)")
    replications = forms.IntegerField(initial=5, min_value=2, max_value=20,
                                      help_text="Simulated studies per cell (plan_study runs more)")
    dimension = forms.ChoiceField(choices=())

    def __init__(self, *args, dimensions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = [(key, key) for key in dimensions]
        self.fields["dimension"].initial = dimensions[0] if dimensions else None

    def clean_ns(self):
        return _numbers(self.cleaned_data["ns"])

    def clean_ms(self):
        return _numbers(self.cleaned_data["ms"])

    def plan_request(self) -> PlanRequest:
        data = self.cleaned_data
        return PlanRequest(target_width=data["target_width"], ns=data["ns"], ms=data["ms"], alpha=data["alpha"],
                           replications=data["replications"], n_boot=100, dimensions=[data["dimension"]])


@require_GET
@login_required
def plan_page(request, slug: str):
    study = study_for_user(request.user, slug)
    # One dimension per request, few replications: the page answers within seconds; plan_study does more.
    keys = [d.key for d in study_dimensions(study).values() if d.kind in PLANNED_KINDS]
    form = PlanForm(request.GET if "target_width" in request.GET else None, dimensions=keys)
    context = {"study": study, "form": form, "tab": "alignment"}
    if form.is_bound and form.is_valid():
        try:
            plan = study_plan(study, form.plan_request())
        except Refused as exc:
            context["errors"] = exc.errors
        else:
            target = plan["request"]["target_width"]
            context["plan"] = plan
            context["sections"] = [{"key": key, "section": s, "rows": plan_rows(s, target),
                                    "svg": mark_safe(plan_svg(s, target))}  # built from numbers and escaped text
                                   for key, s in plan["dimensions"].items()]
    return render(request, "alignment/plan.html", context)
