"""{% model_views content key part %}: issue 16's views of a stored report (embedding map, reliability
diagrams, prompt sensitivity), for the dashboard (one dimension) and the HTML report (key None)."""
from django import template
from django.utils.safestring import mark_safe

from alignment.render_model_views import model_views as views_of

register = template.Library()
SVG_NAMESPACE = ' xmlns="http://www.w3.org/2000/svg"'  # inline in HTML an <svg> needs none: the report names no URL


def _inline(svg: str) -> str:
    return mark_safe(svg.replace(SVG_NAMESPACE, "", 1))  # render_model_views escapes every text


@register.inclusion_tag("alignment/_model_views.html")
def model_views(content, key=None, part="all", colour=None):
    """part: "all" (the dashboard: the maps and the dimension `key`), "maps" (the HTML report, once)
    or "dimension" (the HTML report, inside each dimension's section). `colour`: the field the
    dashboard's map is coloured by (its `?map=` choice; the default small multiple without one)."""
    views = views_of(content, key or None, colour=colour or None)
    if part == "maps":
        views["dimensions"] = []
    elif part == "dimension":
        views["maps"] = []
    for m in views["maps"]:
        m["svg"] = _inline(m["svg"])
    for d in views["dimensions"]:
        for item in (*d["reliability"], *d["prompts"]):
            item["svg"] = _inline(item["svg"])
    return {"views": views, "key": key, "choosable": part == "all"}
