from django.core.management.base import BaseCommand, CommandError

from annotations.management.commands._common import add_override_arguments, get_study, overrides, run_import
from annotations.tables import ImportFailed
from clipworker.embeddings import embedding_rows, embeddings_import


class Command(BaseCommand):
    help = "Import precomputed image embeddings (parquet, or .npy plus an id list) under a declared model name."

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--parquet", help="parquet file with an embedding column and an id column")
        source.add_argument("--npy", help="(n, d) array; needs --ids")
        parser.add_argument("--ids", help="text file with one artwork id a line, in the .npy's row order")
        parser.add_argument("--column", default="embedding", help="the embedding column (parquet)")
        parser.add_argument("--id-column", default="id", help="the column matching artwork ids (parquet)")
        parser.add_argument("--model-name", required=True, help="name the embeddings are stored under")
        parser.add_argument("--create-artworks", action="store_true",
                            help="create image-less artworks, with the row's other columns, for unknown ids")
        add_override_arguments(parser)

    def handle(self, *args, **options):
        if options["npy"] and not options["ids"]:
            raise CommandError("--npy needs --ids (a text file with one artwork id a line)")
        study = get_study(options["study"])
        set_values, mapping = overrides(options)
        try:
            rows = embedding_rows(options["parquet"], options["npy"], options["ids"],
                                  column=options["column"], id_column=options["id_column"])
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        run_import(
            self, "embeddings", embeddings_import, study, rows, column=options["column"],
            id_column=options["id_column"], model_name=options["model_name"],
            create_artworks=options["create_artworks"], set_values=set_values, mapping=mapping,
            skip_bad_rows=options["skip_bad_rows"],
        )
