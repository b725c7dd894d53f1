"""What the import commands share: the study lookup, --set/--map, progress and the result."""
import sys

from django.core.management.base import CommandError

from annotations.models import Study
from annotations.tables import ImportFailed, parse_assignments


def get_study(slug: str) -> Study:
    try:
        return Study.objects.get(slug=slug)
    except Study.DoesNotExist:
        raise CommandError(f"no study {slug!r}; create it with: manage.py create_study --slug {slug} ...") from None


def overrides(options: dict) -> tuple[dict, dict]:
    try:
        return parse_assignments(options["set"], "--set"), parse_assignments(options["map"], "--map")
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def add_override_arguments(parser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="give every row this value for FIELD (repeatable), e.g. --set origin=ai")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                        help="take FIELD from another column (repeatable), e.g. --map generator=generative_model")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="import the good rows and list the bad ones, instead of importing nothing")


def progress_printer(stream, label: str):
    """Progress on stderr for long imports: a line every 5% (only when it is a terminal)."""
    if not sys.stderr.isatty():
        return None

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            stream.write(f"\r{label}: {done}/{total} rows checked", ending="\n" if done == total else "")
            stream.flush()

    return progress


def run_import(command, label: str, func, *args, **kwargs) -> None:
    kwargs["progress"] = progress_printer(command.stderr, label)
    try:
        result = func(*args, **kwargs)
    except ImportFailed as exc:
        raise CommandError(str(exc)) from None
    for notice in result.notices:
        command.stdout.write(f"note: {notice}")
    for error in result.skipped:
        command.stderr.write(f"skipped: {error}")
    skipped = max(result.skipped_total, len(result.skipped))
    if skipped > len(result.skipped):
        command.stderr.write(f"skipped: ... and {skipped - len(result.skipped)} more")
    command.stdout.write(command.style.SUCCESS(f"{label}: {result.created} imported, {skipped}"
                                               f" bad row(s) skipped, {len(result.notices)} note(s)"))
