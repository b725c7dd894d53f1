from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from alignment.bundle import KINDS, NoReport, export_file
from annotations.models import Study


class Command(BaseCommand):
    help = ("Export a study: the reproducible bundle (ZIP with manifest.json), or one file: judgements, "
            "predictions, participants or attention-checks as CSV, the latest report as JSON or HTML.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--what", choices=KINDS, default="bundle")
        parser.add_argument("--out", help="file to write (default: the export's own name in the current folder)")

    def handle(self, *args, **options):
        try:
            study = Study.objects.get(slug=options["study"])
        except Study.DoesNotExist:
            raise CommandError(f"no study {options['study']!r}") from None
        try:
            exported = export_file(study, options["what"])
        except NoReport as exc:
            raise CommandError(f"{exc} (manage.py alignment_report {study.slug})") from None
        path = Path(options["out"] or f"{study.slug}-{exported.name}")
        path.write_bytes(exported.data)
        rows = f", {exported.rows} rows" if exported.rows is not None else ""
        self.stdout.write(self.style.SUCCESS(f"wrote {path} ({len(exported.data):,} bytes{rows})"))
