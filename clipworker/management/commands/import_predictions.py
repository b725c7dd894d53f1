from django.core.management.base import BaseCommand

from annotations.management.commands._common import get_study, run_import
from clipworker.predictions_import import predictions_import


class Command(BaseCommand):
    help = ("Import model outputs computed elsewhere: a predictions file (CSV or parquet), one row per model,"
            " artwork, dimension and label: model,artwork,dimension,label,p (optionally revision, method, prompt;"
            " a rating may give one row with label empty and value). Stored as method 'imported' with the"
            " file's sha256.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("file", help="the predictions file (.csv or .parquet)")
        parser.add_argument("--model-name", default=None,
                            help="the model's name (for a file without a 'model' column, or to rename its one model)")
        parser.add_argument("--create-artworks", action="store_true",
                            help="create image-less artworks for ids the study does not hold")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="import the good model × artwork × dimension groups and list the bad rows")

    def handle(self, *args, **options):
        run_import(self, "predictions", predictions_import, get_study(options["study"]), options["file"],
                   model_name=options["model_name"], create_artworks=options["create_artworks"],
                   skip_bad_rows=options["skip_bad_rows"])
