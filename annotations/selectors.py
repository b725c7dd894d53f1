"""Reads: the one access helper every study-scoped page goes through, and the numbers pages show."""
from django.db.models import Count, QuerySet
from django.http import Http404

from .models import Artwork, Study


def studies_for_user(user) -> QuerySet[Study]:
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(owner=user)


def study_for_user(user, slug: str) -> Study:
    """The study if `user` may see it; 404 otherwise, so outsiders cannot tell it exists."""
    try:
        return studies_for_user(user).get(slug=slug)
    except Study.DoesNotExist:
        raise Http404("No such study") from None


def study_artworks(study: Study) -> QuerySet[Artwork]:
    return study.artworks.annotate(n_judgements=Count("judgements")).order_by("id")


def study_summary(study: Study) -> dict:
    return {
        "artworks": study.artworks.count(),
        "with_image": study.artworks.exclude(image="").count(),
        "participants": study.participants.count(),
        "judgements": study.artworks.aggregate(n=Count("judgements"))["n"],
        "dimensions": list(study.dimensions.all()),
    }
