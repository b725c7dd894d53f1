from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotations.editing import StudyChangeRefused, study_status_set
from annotations.studies import StudySpecError, study_create, study_spec_load, study_template_load, template_names


class Command(BaseCommand):
    help = "Create a study from a template or from a study file (YAML or JSON)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--template", help=f"a built-in template: {', '.join(template_names())}")
        source.add_argument("--from-file", help="a study file, YAML or JSON")
        parser.add_argument("--slug", required=True, help="the study's short name, used in its URLs")
        parser.add_argument("--title", help="overrides the file's title")
        parser.add_argument("--owner", metavar="USERNAME",
                            help="the researcher who owns it (sees it on the study pages and the API); without an"
                                 " owner only staff see it, in the admin")
        parser.add_argument("--open", action="store_true",
                            help="open the study to participants at once (refused, and nothing created, unless it"
                                 " can open: a completion code, artworks with images)")

    def handle(self, *args, **options):
        owner = None
        if options["owner"] is not None:
            owner = get_user_model().objects.filter(username=options["owner"], is_active=True).first()
            if owner is None:
                raise CommandError(f"--owner {options['owner']!r}: no active user of that name"
                                   " (create one with `manage.py createsuperuser` or in the admin)")
        try:
            if options["template"]:
                spec = study_template_load(options["template"])
            else:
                spec = study_spec_load(options["from_file"])
            if options["title"]:
                spec["title"] = options["title"]
            with transaction.atomic():  # with --open, a study that cannot open is not created either
                study = study_create(spec, options["slug"], owner=owner, template=options["template"] or "")
                if options["open"]:
                    study_status_set(study, study.Status.OPEN)  # the same rules as the page and the API
        except StudySpecError as exc:
            raise CommandError(str(exc)) from None
        except StudyChangeRefused as exc:
            raise CommandError(f"study {options['slug']!r} not created: it cannot be opened:\n  "
                               + "\n  ".join(exc.errors)
                               + "\ncreate it without --open, import its artworks, then open it") from None
        keys = ", ".join(study.dimensions.values_list("key", flat=True))
        self.stdout.write(self.style.SUCCESS(f"created study {study.slug!r} ({study.status}) with dimensions {keys}"))
