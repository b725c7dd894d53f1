from django.core.management.base import BaseCommand
from django.db.models import Q

from annotations.derivatives import artwork_derivatives_make
from annotations.images import ImageProblem
from annotations.models import Artwork

from ._common import get_study


class Command(BaseCommand):
    help = ("Make the display image and thumbnail of artworks that have an image but no derivative yet"
            " (all studies, or one), or of every artwork with --all (e.g. after changing DISPLAY_IMAGE_MAX_EDGE).")

    def add_arguments(self, parser):
        parser.add_argument("study", nargs="?", help="the study's slug (default: every study)")
        parser.add_argument("--all", action="store_true", help="remake derivatives that already exist")

    def handle(self, *args, **options):
        artworks = Artwork.objects.exclude(image="").select_related("study").order_by("pk")
        if options["study"]:
            artworks = artworks.filter(study=get_study(options["study"]))
        if not options["all"]:
            artworks = artworks.filter(Q(display_image="") | Q(thumbnail=""))
        total, failed = artworks.count(), 0
        for done, artwork in enumerate(artworks.iterator(), start=1):
            try:
                artwork_derivatives_make(artwork)
            except ImageProblem as exc:
                failed += 1
                self.stderr.write(f"{artwork.study.slug}/{artwork.external_id}: {exc}")
            self.stdout.write(f"derivatives: {done}/{total}", ending="\r" if done < total else "\n")
        self.stdout.write(self.style.SUCCESS(f"derivatives: {total - failed} made, {failed} failed"))
