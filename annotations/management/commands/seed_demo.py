from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from annotations.demo import demo_judgements_write, demo_set_write
from annotations.imports import artworks_import, judgements_import
from annotations.models import Study
from annotations.studies import study_create, study_template_load


class Command(BaseCommand):
    help = "Create the offline demo: a study from the template with synthetic images and simulated judgements."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--host", default="http://127.0.0.1:8000", help="printed in the URLs to open")

    def handle(self, *args, **options):
        slug = options["slug"]
        if Study.objects.filter(slug=slug).exists():
            self.stdout.write(f"study {slug!r} already exists; left as it is")
        else:
            self._seed(slug)
        if settings.DEBUG:
            self._demo_researcher(slug)
        host = options["host"].rstrip("/")
        self.stdout.write(self.style.SUCCESS("\nArtAlign demo is ready. Open:"))
        self.stdout.write(f"  {host}/studies/{slug}/          the demo study and its artworks (researcher: demo / demo)")
        self.stdout.write(f"  {host}/admin/                 Django admin (same login)")

    def _seed(self, slug: str) -> None:
        folder = settings.VAR_DIR / "demo-set"
        spec = study_template_load("clip-art-perception")
        spec["title"] = "Demo: synthetic paintings (offline stand-ins)"
        study = study_create(spec, slug, template="clip-art-perception")
        manifest = demo_set_write(folder)
        result = artworks_import(study, manifest, images=folder)
        judgements = demo_judgements_write(folder / "judgements.csv", manifest, list(study.dimensions.all()))
        judged = judgements_import(study, judgements)
        study.status = Study.Status.OPEN
        study.save(update_fields=["status"])
        self.stdout.write(f"created study {slug!r}: {result.created} synthetic artworks,"
                          f" {judged.created} simulated judgements")

    def _demo_researcher(self, slug: str) -> None:
        # Only in DEBUG (the embedded demo): a known login is fine on localhost, never in production.
        user, created = get_user_model().objects.get_or_create(
            username="demo", defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_password("demo")
            user.save()
        Study.objects.filter(slug=slug, owner__isnull=True).update(owner=user)
