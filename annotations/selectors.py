"""Reads: the one access helper every study-scoped page goes through, and the numbers pages show.

Access: a study's owner (`Study.owner`, or a member with role owner) has full access; a viewer
(member with role viewer) reads only; superusers are owners of every study; everyone else,
annotators included (they are never logged in), gets a 404, so outsiders cannot tell a study exists.
"""
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from .models import Artwork, Study, StudyMember

OWNER, VIEWER = StudyMember.Role.OWNER, StudyMember.Role.VIEWER


def studies_for_user(user) -> QuerySet[Study]:
    if not user.is_authenticated:
        return Study.objects.none()
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(Q(owner=user) | Q(members__user=user)).distinct()


def study_role(user, study: Study) -> str | None:
    """"owner", "viewer", or None when the user may not see the study."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or study.owner_id == user.pk:
        return OWNER
    return study.members.filter(user=user).values_list("role", flat=True).first()


def study_for_user(user, slug: str, *, write: bool = False) -> Study:
    """The study if `user` may see it (404 otherwise); with `write`, 403 unless the user owns it.

    The study comes back with `role` set ("owner" or "viewer") for pages to show or hide controls.
    """
    try:
        study = studies_for_user(user).get(slug=slug)
    except Study.DoesNotExist:
        raise Http404("No such study") from None
    study.role = study_role(user, study)
    if write and study.role != OWNER:
        raise PermissionDenied("Viewers can read this study but not change it.")
    return study


def study_artworks(study: Study) -> QuerySet[Artwork]:
    """The study's artworks with their judgements and the people who judged them (the card counts people,
    as the study's target does)."""
    return study.artworks.annotate(n_judgements=Count("judgements"),
                                   n_people=Count("judgements__participant", distinct=True)).order_by("id")


def study_summary(study: Study) -> dict:
    return {
        "artworks": study.artworks.count(),
        "with_image": study.artworks.exclude(image="").count(),
        "participants": study.participants.count(),
        "judgements": study.artworks.aggregate(n=Count("judgements"))["n"],
        "dimensions": list(study.dimensions.all()),
    }
