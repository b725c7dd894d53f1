from django.core.management.base import BaseCommand, CommandError

from annotations.imageless import artworks_import_imageless
from annotations.imports import artworks_import

from ._common import add_override_arguments, get_study, overrides, run_import


class Command(BaseCommand):
    help = "Import artworks from a manifest (CSV or parquet) with images from a folder, a ZIP or URLs."

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--manifest", required=True, help="CSV or parquet, one row per artwork")
        parser.add_argument("--images", help="folder or ZIP that the manifest's 'file' column is relative to")
        parser.add_argument("--image-url-column", default="url", help="column holding image URLs (default: url)")
        parser.add_argument("--defer-download", action="store_true",
                            help="keep URLs and fetch the images when first needed")
        parser.add_argument("--no-images", action="store_true",
                            help="a manifest without file or url: create or update image-less artworks (by id) with"
                                 " their fields and expert_<dimension> labels")
        add_override_arguments(parser)

    def handle(self, *args, **options):
        set_values, mapping = overrides(options)
        if options["no_images"]:
            if options["images"]:
                raise CommandError("--no-images takes no --images")
            run_import(self, "artworks", artworks_import_imageless, get_study(options["study"]), options["manifest"],
                       set_values=set_values, mapping=mapping, skip_bad_rows=options["skip_bad_rows"])
            return
        run_import(
            self, "artworks", artworks_import, get_study(options["study"]), options["manifest"],
            images=options["images"], url_column=options["image_url_column"], set_values=set_values,
            mapping=mapping, defer_download=options["defer_download"], skip_bad_rows=options["skip_bad_rows"],
        )
