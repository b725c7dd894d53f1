from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from alignment.render_report import report_csv
from annotations.models import Study


class Command(BaseCommand):
    help = ("Agreement among people and between people and CLIP for a study, stored as a report and written "
            "as JSON, CSV (a long table) or self-contained HTML.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--format", choices=("json", "csv", "html"), default="json")
        parser.add_argument("--out", help="write to this file instead of standard output")
        parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals (default 0)")
        parser.add_argument("--bootstrap", type=int, default=1000, metavar="B",
                            help="bootstrap resamples per interval (default 1000)")
        parser.add_argument("--exclude-fast-ms", type=int, default=None, metavar="MS",
                            help="exclude participants whose median response time is below MS (default: the "
                                 "study's exclusions.too_fast_ms, else 500; 0: off)")
        parser.add_argument("--min-attention-pass", type=float, default=None, metavar="RATE",
                            help="exclude participants passing fewer than RATE (0-1) of their attention checks "
                                 "(default: the study's exclusions.min_attention_pass; 0: off)")
        parser.add_argument("--min-stratum-items", type=int, default=10, metavar="N",
                            help="compute a stratum's figures only with at least N artworks (default 10)")

    def handle(self, *args, **options):
        try:
            study = Study.objects.get(slug=options["study"])
        except Study.DoesNotExist:
            slugs = ", ".join(Study.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"no study {options['study']!r}; the studies are: {slugs}") from None
        if options["bootstrap"] < 1:
            raise CommandError("--bootstrap must be at least 1")
        if options["exclude_fast_ms"] is not None and options["exclude_fast_ms"] < 0:
            raise CommandError("--exclude-fast-ms must be 0 (off) or a positive number of ms")
        rate = options["min_attention_pass"]
        if rate is not None and not 0 <= rate <= 1:
            raise CommandError("--min-attention-pass is a rate between 0 and 1")
        from alignment.reports import NothingToReport, ReportOptions, report_create  # scipy: not for --help

        report_options = ReportOptions(seed=options["seed"], n_boot=options["bootstrap"],
                                       exclude_fast_ms=options["exclude_fast_ms"], min_attention_pass=rate,
                                       min_stratum_items=max(1, options["min_stratum_items"]))

        def progress(message: str) -> None:
            self.stderr.write(f"alignment_report {study.slug}: {message}")
            self.stderr.flush()

        try:
            report = report_create(study, report_options, progress)
        except NothingToReport as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            text = report.content_json  # exactly what was stored
        else:
            from alignment.dashboard import report_html_of  # scipy and sklearn: not for --help

            text = report_csv(report.content) if options["format"] == "csv" else report_html_of(study, report.content)
        if options["out"]:
            Path(options["out"]).write_text(text, encoding="utf-8")
            progress(f"wrote {options['format'].upper()} to {options['out']} (stored as report {report.pk})")
        else:
            self.stdout.write(text, ending="")
