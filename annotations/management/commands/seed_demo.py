from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from annotations.comparative_demo import SPEC as COMPARATIVE_SPEC
from annotations.comparative_demo import demo_comparative_write, demo_manifest_for_comparative
from annotations.comparative_import import judgements_file_import
from annotations.demo import demo_judgements_write, demo_set_write
from annotations.imports import artworks_import, judgements_import
from annotations.models import Study
from annotations.studies import study_create, study_template_load

STAND_IN = "artalign/tiny-clip"


class Command(BaseCommand):
    help = ("The offline demo, end to end: a study from the template with synthetic images and simulated "
            "judgements, the stand-in CLIP run on it, and an alignment report.")

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--host", default="http://127.0.0.1:8000", help="printed in the URLs to open")
        parser.add_argument("--no-clip", action="store_true", help="skip the CLIP run and the report")

    def handle(self, *args, **options):
        slug = options["slug"]
        if Study.objects.filter(slug=slug).exists():
            self.stdout.write(f"study {slug!r} already exists; left as it is")
        else:
            self._seed(slug)
            self._seed_comparative(f"{slug}-compare")
            if not options["no_clip"]:
                # Runs in-process (eager Celery) in the embedded default, on a queue with a broker.
                for seeded in (slug, f"{slug}-compare"):
                    call_command("run_clip", seeded, "--model", STAND_IN, stdout=self.stdout, stderr=self.stderr)
                    report = settings.VAR_DIR / f"{seeded}-report.html"
                    call_command("alignment_report", seeded, "--format", "html", "--out", str(report),
                                 stdout=self.stdout, stderr=self.stderr)
        if settings.DEBUG:
            self._demo_researcher(slug)
            self._demo_researcher(f"{slug}-compare")
        host = options["host"].rstrip("/")
        self.stdout.write(self.style.SUCCESS("\nArtAlign demo is ready. Open:"))
        self.stdout.write(f"  {host}/studies/{slug}/          the demo study (researcher login: demo / demo)")
        self.stdout.write(f"  {host}/s/{slug}/?PROLIFIC_PID=demo-participant&STUDY_ID=demo&SESSION_ID=1"
                          "   a participant's session")
        self.stdout.write(f"  {host}/studies/{slug}-compare/  its comparative part (pairwise and odd-one-out trials);"
                          f" a participant: {host}/s/{slug}-compare/?participant=demo-participant")
        self.stdout.write(f"  {host}/admin/                 Django admin (same login)")
        self.stdout.write(f"  report: {settings.VAR_DIR / f'{slug}-report.html'}"
                          " (stand-in CLIP: its figures mean nothing)")

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

    def _seed_comparative(self, slug: str) -> None:
        """The demo's comparative part (annotations.comparative_demo): the same images, simulated trials."""
        if Study.objects.filter(slug=slug).exists():
            return
        folder = settings.VAR_DIR / "demo-set"
        study = study_create(dict(COMPARATIVE_SPEC), slug)
        artworks_import(study, demo_manifest_for_comparative(folder / "manifest.csv", folder / "manifest-compare.csv"),
                        images=folder)
        answers = demo_comparative_write(folder / "comparative_judgements.csv", folder / "manifest.csv")
        imported = judgements_file_import(study, answers)
        study.status = Study.Status.OPEN
        study.save(update_fields=["status"])
        self.stdout.write(f"created study {slug!r}: the same artworks, {imported.created} simulated trial answers")

    def _demo_researcher(self, slug: str) -> None:
        # Only in DEBUG (the embedded demo): a known login is fine on localhost, never in production.
        user, created = get_user_model().objects.get_or_create(
            username="demo", defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_password("demo")
            user.save()
        Study.objects.filter(slug=slug, owner__isnull=True).update(owner=user)
