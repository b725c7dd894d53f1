import json

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Study


def _numbers(raw: str, kind=int) -> list:
    try:
        return [kind(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise CommandError(f"expected comma-separated numbers, got {raw!r}") from None


def _shares(raw: str | None) -> dict[str, float]:
    """'baroque=2,cubism=1' -> {"baroque": 2.0, "cubism": 1.0}."""
    out = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        label, sep, weight = part.rpartition("=")
        try:
            out[label.strip()] = float(weight)
        except ValueError:
            raise CommandError(f"--shares: expected label=weight, got {part!r}") from None
        if not sep:
            raise CommandError(f"--shares: expected label=weight, got {part!r}")
    return out


class Command(BaseCommand):
    help = ("How many annotators per artwork (N) and artworks (M) a study needs: simulates the study from its "
            "pilot judgements (or a stated alpha and label distribution) and prints the expected width of "
            "alpha's 95% interval, the spread of the model's percentile among people, the smallest N and M "
            "reaching --target-width and the cost in participants and minutes.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug (its judgements are the pilot)")
        parser.add_argument("--target-width", type=float, default=0.1, help="width of alpha's 95%% interval to reach")
        parser.add_argument("--n", default="2,3,5,8,12", help="annotators per artwork to try (comma-separated)")
        parser.add_argument("--m", default="25,50,100,200,400", help="numbers of artworks to try (comma-separated)")
        parser.add_argument("--replications", type=int, default=20, help="simulated studies per (N, M)")
        parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples per simulated interval")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--dimension", action="append", default=[], help="plan only this dimension (repeats)")
        parser.add_argument("--alpha", type=float, help="expected alpha, instead of the pilot's (no pilot: required)")
        parser.add_argument("--shares", help="expected label distribution without a pilot: label=weight,...")
        parser.add_argument("--seconds-per-artwork", type=float, help="instead of the pilot's median")
        parser.add_argument("--per-person", type=int, help="artworks per participant, instead of the pilot's median")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, **options):
        try:
            study = Study.objects.get(slug=options["study"])
        except Study.DoesNotExist:
            raise CommandError(f"no study {options['study']!r}") from None
        from alignment.planning import PlanRefused, PlanRequest, study_plan  # scipy: not for --help

        request = PlanRequest(target_width=options["target_width"], ns=_numbers(options["n"]),
                              ms=_numbers(options["m"]), replications=options["replications"],
                              n_boot=options["bootstrap"], seed=options["seed"], dimensions=options["dimension"],
                              alpha=options["alpha"], shares=_shares(options["shares"]),
                              seconds_per_artwork=options["seconds_per_artwork"], per_person=options["per_person"])
        try:
            plan = study_plan(study, request)
        except PlanRefused as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(plan, indent=2, ensure_ascii=False))
            return
        from alignment.render_plan import plan_text

        self.stdout.write(plan_text(plan))
