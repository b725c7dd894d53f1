from django.core.management.base import BaseCommand

from annotations.comparative_import import judgements_file_import

from ._common import get_study, run_import


class Command(BaseCommand):
    help = ("Import judgements in long CSV form: participant,artwork,dimension,value[,response_ms,created_at]; or a"
            " comparative judgements file: participant,dimension,items,choice[,response_ms,created_at,positions].")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("file", help="CSV with a header")
        parser.add_argument("--create-artworks", action="store_true",
                            help="create image-less artworks for ids the study does not have")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="import the good rows and list the bad ones, instead of importing nothing")

    def handle(self, *args, **options):
        run_import(
            self, "judgements", judgements_file_import, get_study(options["study"]), options["file"],
            create_artworks=options["create_artworks"], skip_bad_rows=options["skip_bad_rows"],
        )
