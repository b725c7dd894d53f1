"""The comparative sections' view for the dashboard's and the HTML report's shared include
(templates/alignment/_comparative.html): `{% with view=content|comparative_view %}`."""
from django import template
from django.utils.safestring import mark_safe

from alignment.report_comparative_figures import comparative_view as view_of

register = template.Library()


@register.filter
def comparative_view(content: dict) -> list[dict]:
    sections = view_of(content or {})
    for section in sections:  # every text inside the SVGs is escaped where it is drawn
        for name in ("scores_svg", "people_svg", "rsa_svg"):
            section[name] = mark_safe(section[name])  # noqa: S308
    return sections
