import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotations.management.commands._common import get_study


class Command(BaseCommand):
    help = ("Train a logistic-regression probe on a study's stored embeddings and keep it (with its provenance"
            " and its grouped-CV figures on that study); --out also writes it as a JSON file that loads without"
            " executing code. Apply it to another study with: run_clip B --method probe --train-study A ... or"
            " --probe-file F.")

    def add_arguments(self, parser):
        parser.add_argument("study", help="the training study's slug")
        parser.add_argument("--model", required=True, help="the embedding model's name (as stored or imported)")
        parser.add_argument("--dimension", required=True, help="the dimension the probe predicts")
        parser.add_argument("--target", default="expert", help="expert | majority | field | field:NAME")
        parser.add_argument("--group-by", default="", help="artwork field or metadata key kept within one fold")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--C", type=float, default=1.0, help="inverse L2 regularisation strength")
        parser.add_argument("--name", default="", help="the probe's name (default study:model:dimension)")
        parser.add_argument("--out", help="also write the probe to this JSON file")

    def handle(self, *args, **options):
        from clipworker.probes import probe_export, probe_train

        study = get_study(options["study"])
        if options["C"] <= 0:
            raise CommandError("--C must be positive")
        try:
            probe = probe_train(study, options["model"], options["dimension"], target=options["target"],
                                group_by=options["group_by"], folds=options["folds"], seed=options["seed"],
                                C=options["C"], name=options["name"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        cv = probe.cv
        auc = f", AUC {cv['auc']:.3f}" if cv.get("auc") is not None else ""
        self.stdout.write(f"probe {probe.pk} {probe.name!r}: trained on {study.slug} ({probe.n_train} artworks,"
                          f" classes {', '.join(probe.classes)}); grouped CV there ({cv['n_splits']} folds):"
                          f" accuracy {cv['accuracy']:.3f}{auc}")
        if options["out"]:
            Path(options["out"]).write_text(json.dumps(probe_export(probe)), encoding="utf-8")
            self.stdout.write(f"written to {options['out']}")
