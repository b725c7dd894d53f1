"""Human-made or AI? A probe on the AI-Pastiche / NGA sample's CLIP ViT-L/14@336px embeddings.

    .venv/bin/python -m clipworker.probe_cli [FOLDER] [--splits 5] [--seed 0] [--C 1.0]
    .venv/bin/python -m clipworker.probe_cli --table A.parquet=ai --table B.csv=human \
        [--embedding-column COL] [--label-column COL] [--group-column COL] [--share-column COL --share-class C]

With --table (repeatable; parquet or CSV, the embedding column a list of numbers or a JSON array),
any files and columns: each table's label is the one after `=`, else its --label-column; rows with
the same --group-column value stay in one fold (a row or table without one is its own group); --share-column
is correlated (Spearman) with the out-of-fold P(--share-class) where it is given.

FOLDER defaults to the workplace's shared copy, `<project root>/../shared/realdata/ai-pastiche-nga`
(read in place, never copied). AI-Pastiche images are grouped by their generator prompt (the same
prompt was given to every generator), each NGA painting is its own group, so no prompt is ever both
trained on and tested.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from clipworker.probe import probe_cross_val

EMBEDDING = "ViT-L/14@336px"
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared/realdata/ai-pastiche-nga"


def load_human_vs_ai(folder: Path):
    """(X (n, 768), y "ai"/"human", groups, authenticity (NaN for NGA)) from the two parquet files."""
    import pandas as pd

    ai = pd.read_parquet(folder / "ai_pastiche.parquet", columns=[EMBEDDING, "prompt", "authenticity"])
    nga = pd.read_parquet(folder / "ngd.parquet", columns=[EMBEDDING, "objectid"])
    X = np.vstack([np.stack(ai[EMBEDDING].to_numpy()), np.stack(nga[EMBEDDING].to_numpy())])
    y = np.array(["ai"] * len(ai) + ["human"] * len(nga), dtype=object)
    groups = np.array([f"prompt:{p}" for p in ai["prompt"]] + [f"nga:{o}" for o in nga["objectid"]],
                      dtype=object)
    authenticity = np.concatenate([ai["authenticity"].to_numpy(float), np.full(len(nga), np.nan)])
    return X.astype(np.float32), y, groups, authenticity


def load_tables(tables: list[str], embedding: str, label_column: str | None, group_column: str | None,
                share_column: str | None):
    """(X, y, groups, shares) from any tables: see the module docstring."""
    import json

    import pandas as pd

    X, y, groups, shares = [], [], [], []
    for spec in tables:
        path, _, label = spec.partition("=")
        frame = pd.read_parquet(path) if path.lower().endswith(".parquet") else pd.read_csv(path)
        for column in (embedding, *([] if label else [label_column])):  # group and share may be absent
            if column and column not in frame.columns:
                raise ValueError(f"{path}: no column {column!r}")
        if not label and not label_column:
            raise ValueError(f"{path}: give its label (--table {path}=LABEL) or --label-column")
        for i, row in frame.iterrows():
            vector = row[embedding]
            X.append(np.asarray(json.loads(vector) if isinstance(vector, str) else vector, dtype=np.float64))
            y.append(label or row[label_column])
            group = row[group_column] if group_column in frame.columns else None
            groups.append(f"{group_column}:{group}" if group is not None and group == group else f"{path}:{i}")
            share = row[share_column] if share_column in frame.columns else None
            shares.append(float(share) if share is not None and pd.notna(share) else np.nan)
    return np.vstack(X), np.array(y, dtype=object), np.array(groups, dtype=object), np.array(shares)


def _main_tables(args) -> int:
    from scipy.stats import spearmanr

    X, y, groups, shares = load_tables(args.table, args.embedding_column, args.label_column, args.group_column,
                                       args.share_column)
    result = probe_cross_val(X, y, groups, n_splits=args.splits, seed=args.seed, C=args.C)
    classes = [str(c) for c in result["classes"]]
    print(f"Probe on {args.embedding_column} from {', '.join(args.table)}")
    print(f"  logistic regression, C={args.C}, L2-normalised embeddings; {result['n_splits']}-fold grouped CV"
          f" (seed {args.seed}); n per class: " + ", ".join(f"{c} {k}" for c, k in result["n_per_class"].items()))
    print(f"  cross-validated accuracy:          {result['accuracy']:.3f}")
    print(f"  cross-validated balanced accuracy: {result['balanced_accuracy']:.3f}")
    if result["auc"] is not None:
        print(f"  cross-validated ROC AUC ({classes[1]}):   {result['auc']:.3f}")
    if args.share_column:
        share_class = args.share_class or classes[-1]
        p = result["proba"][:, classes.index(share_class)]
        has = np.isfinite(shares) & np.isfinite(p)
        rho, p_value = spearmanr(p[has], shares[has])
        print(f"  Spearman rho between out-of-fold P({share_class}) and {args.share_column}: {rho:.3f}"
              f" (p = {p_value:.2g}, n = {int(has.sum())})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 regularisation strength")
    parser.add_argument("--table", action="append", default=[], metavar="PATH[=LABEL]",
                        help="any parquet or CSV file (repeatable), instead of FOLDER's two files")
    parser.add_argument("--embedding-column", default=EMBEDDING)
    parser.add_argument("--label-column", help="the label of each row (tables given without =LABEL)")
    parser.add_argument("--group-column", help="rows sharing a value stay in one fold")
    parser.add_argument("--share-column", help="a human share to correlate with the probe's probability")
    parser.add_argument("--share-class", help="the class whose probability is correlated (default: the last)")
    args = parser.parse_args(argv)
    if args.table:
        try:
            return _main_tables(args)
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
    if not (args.folder / "ai_pastiche.parquet").is_file():
        parser.error(f"no ai_pastiche.parquet in {args.folder}")

    from scipy.stats import spearmanr

    X, y, groups, authenticity = load_human_vs_ai(args.folder)
    result = probe_cross_val(X, y, groups, n_splits=args.splits, seed=args.seed, C=args.C)
    p_human = result["proba"][:, list(result["classes"]).index("human")]
    is_ai = y == "ai"
    rho, p_value = spearmanr(p_human[is_ai], authenticity[is_ai])

    print(f"Human-made vs AI probe on CLIP {EMBEDDING} embeddings ({args.folder})")
    print(f"  logistic regression, C={args.C}, L2-normalised embeddings; {result['n_splits']}-fold "
          f"grouped CV (seed {args.seed}): AI-Pastiche grouped by prompt "
          f"({len(set(groups[is_ai]))} prompts), each NGA painting its own group")
    print("  n per class: " + ", ".join(f"{c} {k}" for c, k in result["n_per_class"].items())
          + f" (n = {result['n']})")
    print(f"  cross-validated accuracy:          {result['accuracy']:.3f}")
    print(f"  cross-validated balanced accuracy: {result['balanced_accuracy']:.3f}")
    print(f"  cross-validated ROC AUC (human):   {result['auc']:.3f}")
    print(f"  AI-Pastiche images: Spearman rho between the probe's out-of-fold P(human) and the "
          f"survey's authenticity share: {rho:.3f} (p = {p_value:.2g}, n = {int(is_ai.sum())})")
    print("  note: authenticity is the share of surveyed people who took the AI image for a human-made "
          "painting (aggregated shares, not per-judge answers); a positive rho means the images that "
          "fool people also look more human-made to the probe. The probe was trained on AI vs NGA "
          "labels only, never on the survey; it separates two collections, so it may also read "
          "differences between them other than who made the image (subjects, photography of the "
          "NGA paintings).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
