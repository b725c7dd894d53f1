import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotations.management.commands._common import get_study
from clipworker.catalog import ModelUnavailable
from clipworker.models import ClipRun
from clipworker.runs import BrokerUnavailable, clip_model_default, clip_models_offered, cliprun_start

STAND_IN_NOTE = "NOTE: computed with the offline stand-in CLIP (random weights); its answers mean nothing."


class Command(BaseCommand):
    help = ("Run CLIP on a study: zero-shot on every dimension (queued on the clip queue), or a probe. This is the"
            " operator's tool: --model may name any hub id or folder, where the run pages and the API offer only"
            " the models listed in CLIP_MODELS.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--model", default=None, help=(
            f"a model listed in CLIP_MODELS (now: {', '.join(clip_models_offered())}; default"
            f" {clip_model_default()}), or any hub id or local folder; artalign/tiny-clip is the stand-in"))
        parser.add_argument("--batch-size", type=int, default=None, help="images per forward")
        parser.add_argument("--no-wait", action="store_true", help="queue the run and return at once")
        parser.add_argument("--method", choices=["zero-shot", "probe"], default="zero-shot")
        probe = parser.add_argument_group("probe (on stored or imported embeddings)")
        probe.add_argument("--dimension", help="the dimension the probe predicts")
        probe.add_argument("--target", default="expert",
                           help="expert | majority | field | field:NAME (what the probe learns)")
        probe.add_argument("--group-by", default="", help="artwork field or metadata key kept within one fold")
        probe.add_argument("--folds", type=int, default=5)
        probe.add_argument("--seed", type=int, default=0)
        probe.add_argument("--C", type=float, default=1.0, help="inverse L2 regularisation strength")
        probe.add_argument("--train-study", help="train a stored probe on this study and apply it to STUDY (held out)")
        probe.add_argument("--probe-file", help="apply a probe exported by train_probe --out (JSON) to STUDY")

    def handle(self, *args, **options):
        study = get_study(options["study"])
        model = options["model"] or clip_model_default()
        if options["method"] == "probe":
            self._probe(study, model, options)
            return
        try:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                from clipworker.services import clip_for  # the worker side (torch): only when there is work

                clip_for(model)  # in-process: fail before creating a run if the model cannot be had
            run = cliprun_start(study, model, batch_size=options["batch_size"])
        except (ModelUnavailable, BrokerUnavailable) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run {run.pk}: {run.total} artworks, model {model}")
        if not options["no_wait"]:
            run = self._wait(run)
        self._summary(run)

    def _wait(self, run: ClipRun) -> ClipRun:
        while run.status in (ClipRun.Status.QUEUED, ClipRun.Status.RUNNING):
            self.stderr.write(f"\r  {run.done + run.failed}/{run.total} artworks ({run.status})", ending="")
            time.sleep(1)
            run.refresh_from_db()
        self.stderr.write("")
        return run

    def _summary(self, run: ClipRun) -> None:
        rate = f", {run.throughput:.1f} artworks/s" if run.throughput else ""
        self.stdout.write(f"run {run.pk} {run.status}: {run.done} scored, {run.failed} failed of {run.total}{rate}")
        for failure in run.failures.select_related("artwork"):
            self.stdout.write(f"  failed: {failure.artwork.external_id}: {failure.reason}")
        if run.error:
            self.stdout.write(f"  error: {run.error}")
        if run.is_stand_in:
            self.stdout.write(self.style.WARNING(STAND_IN_NOTE))

    def _probe(self, study, model: str, options: dict) -> None:
        from clipworker.services import probe_predict

        if options["train_study"] or options["probe_file"]:
            self._transfer(study, model, options)
            return

        if not options["dimension"]:
            raise CommandError("--method probe needs --dimension (e.g. --dimension origin --target field)")
        try:
            result = probe_predict(study, model, options["dimension"], target=options["target"],
                                   group_by=options["group_by"], folds=options["folds"], seed=options["seed"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        auc = f", AUC {result['auc']:.3f}" if result["auc"] is not None else ""
        self.stdout.write(
            f"probe {model} -> {options['dimension']} ({options['target']}, grouped by {options['group_by'] or 'item'},"
            f" {result['n_splits']} folds): accuracy {result['accuracy']:.3f}, balanced accuracy"
            f" {result['balanced_accuracy']:.3f}{auc}, n={result['n']} {result['n_per_class']}")

    def _transfer(self, study, model: str, options: dict) -> None:
        """A stored probe, trained on --train-study (or read from --probe-file), applied to STUDY."""
        from annotations.tables import ImportFailed
        from clipworker.probes import probe_apply, probe_import, probe_train

        try:
            if options["probe_file"]:
                probe = probe_import(options["probe_file"])
            else:
                if not options["dimension"]:
                    raise CommandError("--train-study needs --dimension")
                probe = probe_train(get_study(options["train_study"]), model, options["dimension"],
                                    target=options["target"], group_by=options["group_by"], folds=options["folds"],
                                    seed=options["seed"], C=options["C"])
            result = probe_apply(probe, study, options["dimension"])
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"probe {probe.pk} {probe.name!r} (trained on {probe.train_study_slug}, {probe.n_train}"
                          f" artworks) applied to {study.slug}: {result['n']} artworks predicted")
