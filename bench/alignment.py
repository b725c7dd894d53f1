"""Benchmark of the statistics behind one alignment report, on synthetic judgements held in memory.

    python -m bench.alignment [--items 10000 --raters 10 --dims 7 --boot 1000 --loop 20]
        [--large-raters 1000 --large-items 2000 --large-per-item 10] [--quick]

It times every figure a report computes per dimension, on two studies in one run: 10,000 artworks
each judged by the same 10 people (25% missing), and a crowd of 1,000 people over 2,000 artworks with
10 judgements per artwork (targets: under 10 s and under 30 s and 4 GiB for the report's statistics
of all 7 dimensions with 1,000 resamples) (alpha with a bootstrap interval, kappas,
majorities, CLIP against the majority, the human ceiling, Spearman with an interval, split-half
reliability), then measures, in the same run, the per-resample cost of the vectorised alpha
bootstrap against a loop calling ``krippendorff.alpha`` once per resample on the same resamples,
and checks that the point estimates equal ``krippendorff.alpha``. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version

import krippendorff
import numpy as np

from alignment import stats

CHECK_TOLERANCE = 1e-9
TARGET_SPEEDUP = 20.0
TARGET_REPORT_S, TARGET_LARGE_S, TARGET_LARGE_GIB = 10.0, 30.0, 4.0  # issue 19's yardsticks
REPEATS = 3


@dataclass(frozen=True)
class Dimension:
    name: str
    level: str
    n_values: int  # categories (nominal, ordinal codes 0..K-1) or scale points (interval 1..K)


DIMENSIONS = (
    Dimension("style", "nominal", 6),
    Dimension("origin", "nominal", 2),
    Dimension("subject", "nominal", 8),
    Dimension("craft", "ordinal", 5),
    Dimension("aesthetic", "interval", 7),
    Dimension("emotion", "interval", 7),
    Dimension("novelty", "ordinal", 7),
)


def synthetic_judgements(dim: Dimension, n_items: int, n_raters: int, rng: np.random.Generator,
                         per_item: int | None = None):
    """Judgements (n_raters, n_items) with 25% missing (or, with `per_item`, exactly that many
    random raters per item: a crowd where each person judges a few of many artworks), the truth
    (n_items,), and CLIP's output.

    Nominal: raters of skill 0.45-0.9 give the true label, else a random one; CLIP gives class
    probabilities (n_items, K) whose argmax is right about 70% of the time. Ordinal and interval:
    a latent quality per item, raters add a bias and noise and round to the scale; CLIP gives a
    continuous score correlated with the latent quality.
    """
    shape = (n_raters, n_items)
    if dim.level == "nominal":
        truth = rng.integers(0, dim.n_values, n_items)
        skill = rng.uniform(0.45, 0.9, (n_raters, 1))
        data = np.where(rng.random(shape) < skill, truth, rng.integers(0, dim.n_values, shape)).astype(float)
        logits = rng.normal(0, 1, (n_items, dim.n_values))
        logits[np.arange(n_items), truth] += 1.5
        clip = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    else:
        truth = rng.normal(0, 1, n_items)
        bias = rng.normal(0, 0.3, (n_raters, 1))
        noise = rng.uniform(0.6, 1.2, (n_raters, 1))
        latent = truth + bias + noise * rng.normal(0, 1, shape)
        low = 1 if dim.level == "interval" else 0
        centre, spread = low + (dim.n_values - 1) / 2, (dim.n_values - 1) / 4
        data = np.clip(np.round(centre + spread * latent), low, low + dim.n_values - 1)
        clip = truth + rng.normal(0, 0.8, n_items)
    if per_item is None:
        data[rng.random(shape) < 0.25] = np.nan
    else:
        judged = np.zeros(shape, dtype=bool)
        np.put_along_axis(judged, np.argsort(rng.random(shape), axis=0)[:per_item], True, axis=0)
        data[~judged] = np.nan
    return data, truth, clip


def report_statistics(dim: Dimension, data, truth, clip, n_boot: int, seed: int) -> dict:
    """Every figure the report shows for one dimension."""
    figures = {"alpha": stats.alpha_bootstrap(data, dim.level, n_boot=n_boot, seed=seed)}
    figures["leave_one_out"] = stats.leave_one_out_agreement(data, dim.level, seed=seed)
    if dim.level == "nominal":
        clip_label = clip.argmax(axis=1).astype(float)
        counts = stats.vote_counts(data, dim.n_values)
        complete = counts.sum(axis=1) == data.shape[0]
        majority, distribution = stats.majority_labels(data, dim.n_values, seed=seed)
        figures |= {
            "alpha_with_clip": stats.alpha(np.vstack([data, clip_label]), dim.level),
            "percent_agreement": stats.percent_agreement(data),
            "pairwise_kappa": stats.pairwise_cohen_kappa(data),
            "fleiss_complete_items": stats.fleiss_kappa(counts[complete]) if complete.any() else np.nan,
            "clip_accuracy": stats.accuracy(majority, clip_label),
            "clip_macro_f1": stats.macro_f1(majority, clip_label),
            "clip_kappa": stats.cohen_kappa(majority, clip_label),
            "clip_confusion": stats.confusion_matrix(majority, clip_label, labels=range(dim.n_values)),
            "clip_js_mean": float(np.nanmean(stats.jensen_shannon(distribution, clip))),
            "humans_vs_experts": stats.accuracy(truth, majority),
            "clip_vs_experts": stats.accuracy(truth, clip_label),
        }
        clip_output = clip_label
        if dim.n_values == 2:
            figures["humans_detection"] = stats.signal_detection(truth, majority)
            figures["clip_auc"] = stats.auc(truth, clip[:, 1])
    else:
        means = stats.mean_ratings(data)
        figures |= {
            "spearman_clip_mean": stats.spearman_ci(clip, means, n_boot=n_boot, seed=seed),
            "split_half": stats.split_half_reliability(data, n_splits=100, seed=seed),
        }
        clip_output = clip
    clip_seat = stats.model_leave_one_out_agreement(data, clip_output, dim.level, seed=seed)
    figures["ceiling"] = stats.human_ceiling(figures["leave_one_out"], clip_seat)
    return figures


def report_table(label: str, dims, judgements, n_boot: int, seed: int) -> float:
    """Time every figure of one report, dimension by dimension, printing a row each; the total seconds."""
    print(f"\nFull report statistics, {label}, per dimension")
    print(f"{'dimension':<10} {'level':<9} {'V':>2} {'alpha':>7}  {'95% CI':<17} {'ceiling pct':>11} {'seconds':>8} "
          f"{'CPU s':>6}")
    total = cpu_total = 0.0
    for dim, (data, truth, clip) in zip(dims, judgements):
        start, cpu_start = time.perf_counter(), time.process_time()
        figures = report_statistics(dim, data, truth, clip, n_boot, seed)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        total += elapsed
        cpu_total += cpu
        a, (low, high) = figures["alpha"]["value"], figures["alpha"]["ci"]
        n_values = len(stats.unit_value_counts(data)[1])
        print(
            f"{dim.name:<10} {dim.level:<9} {n_values:>2} {a:7.4f}  [{low:.4f}, {high:.4f}] "
            f"{figures['ceiling']['percentile']:11.1f} {elapsed:8.2f} {cpu:6.2f}"
        )
    # CPU seconds of this process: on a machine others load, wall time grows and CPU time much less.
    print(f"CPU seconds for the report: {cpu_total:.2f}")
    return total


def best_time(function, repeats: int = REPEATS):
    """Fastest of a few runs (timeit's advice: slower runs measure other load, not the code)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def compare_with_loop(dim: Dimension, data, n_boot: int, n_loop: int, seed: int) -> dict:
    """Per-resample cost of the vectorised bootstrap and of a krippendorff.alpha loop, same resamples."""
    seconds, replicates = best_time(lambda: stats.alpha_replicates(data, dim.level, n_boot=n_boot, seed=seed))
    vectorised = seconds / n_boot

    pairable = data[:, stats.pairable_units(data)]
    counts = stats.bootstrap_counts(pairable.shape[1], n_loop, seed=seed).astype(int)
    unit_index = np.arange(pairable.shape[1])
    seconds, looped = best_time(
        lambda: [
            krippendorff.alpha(reliability_data=pairable[:, np.repeat(unit_index, row)], level_of_measurement=dim.level)
            for row in counts
        ]
    )
    loop = seconds / n_loop

    o_u, values = stats.unit_coincidences(data)
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement=dim.level)
    return {
        "vectorised_s": vectorised,
        "loop_s": loop,
        "ratio": loop / vectorised,
        "replicate_diff": float(np.max(np.abs(np.asarray(looped) - replicates[:n_loop]))),
        "alpha_diff": abs(stats.alpha(data, dim.level) - reference),
        "coincidence_diff": abs(float(stats.alpha_from_coincidences(o_u.sum(axis=0), values, dim.level)) - reference),
    }


def compare_pairwise_kappa(n_raters: int, n_items: int, n_loop_raters: int, rng: np.random.Generator) -> dict:
    """Pairwise Cohen's kappa on a crowd (each person judges 10% of the items): all pairs at once
    against ``cohen_kappa`` (sklearn) once per pair, both on the first ``n_loop_raters`` people;
    then all pairs at once on the whole crowd."""
    crowd = Dimension("crowd", "nominal", 6)
    data, _, _ = synthetic_judgements(crowd, n_items, n_raters, rng)
    data[rng.random(data.shape) < 0.87] = np.nan  # with the 25% already missing: about 10% judged
    sample = data[:n_loop_raters]
    present = ~np.isnan(sample)
    overlap = present.astype(int) @ present.T.astype(int)
    pairs = [(i, j) for i, j in zip(*np.triu_indices(n_loop_raters, 1)) if overlap[i, j] >= 2]
    vectorised, value = best_time(lambda: stats.pairwise_cohen_kappa(sample))
    loop, kappas = best_time(lambda: [stats.cohen_kappa(sample[i], sample[j]) for i, j in pairs], repeats=1)
    full, _ = best_time(lambda: stats.pairwise_cohen_kappa(data))
    return {"pairs": len(pairs), "vectorised_s": vectorised, "loop_s": loop, "ratio": loop / vectorised,
            "diff": abs(value - float(np.nanmean(kappas))), "full_s": full}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.alignment", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--raters", type=int, default=10)
    parser.add_argument("--dims", type=int, default=7, help="dimensions, cycling through the 7 kinds")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--loop", type=int, default=20, help="resamples timed in the krippendorff.alpha loop")
    parser.add_argument("--crowd", type=int, default=600, help="people in the pairwise-kappa comparison")
    parser.add_argument("--crowd-loop", type=int, default=80, help="of them, how many in the per-pair loop")
    parser.add_argument("--large-raters", type=int, default=1_000, help="the large study's annotators (0: skip it)")
    parser.add_argument("--large-items", type=int, default=2_000, help="the large study's artworks")
    parser.add_argument("--large-per-item", type=int, default=10, help="judgements per artwork in the large study")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 items, 200 resamples, 10 looped")
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.boot, args.loop, args.crowd, args.crowd_loop = 2_000, 200, 10, 200, 40
        args.large_raters, args.large_items = 200, 400
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    dims = [DIMENSIONS[i % len(DIMENSIONS)] for i in range(args.dims)]
    print(
        f"ArtAlign statistics benchmark: {args.items} items x {args.raters} annotators x {args.dims} dimensions, "
        f"{args.boot} bootstrap resamples, seed {args.seed}"
    )
    print(
        f"numpy {np.__version__}, scipy {version('scipy')}, scikit-learn {version('scikit-learn')}, "
        f"krippendorff {version('krippendorff')}, {os.cpu_count()} CPUs"
    )
    judgements = [synthetic_judgements(dim, args.items, args.raters, rng) for dim in dims]
    total = report_table(f"{args.items:,} items x {args.raters} annotators", dims, judgements, args.boot, args.seed)
    print(f"Total for one report: {total:.2f} s (target < {TARGET_REPORT_S:.0f} s: "
          f"{'met' if total < TARGET_REPORT_S else 'NOT met'})")
    if args.large_raters:
        large = [synthetic_judgements(dim, args.large_items, args.large_raters, rng, per_item=args.large_per_item)
                 for dim in dims]
        label = (f"{args.large_raters:,} annotators x {args.large_items:,} items, "
                 f"{args.large_per_item} judgements per item")
        large_total = report_table(label, dims, large, args.boot, args.seed)
        del large
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB (Linux)
        print(f"Total for one report: {large_total:.2f} s (target < {TARGET_LARGE_S:.0f} s: "
              f"{'met' if large_total < TARGET_LARGE_S else 'NOT met'}); peak memory of this process so far "
              f"{peak:.2f} GiB (target < {TARGET_LARGE_GIB:.0f} GiB: "
              f"{'met' if peak < TARGET_LARGE_GIB else 'NOT met'})")

    print(
        f"\nAlpha bootstrap per resample: vectorised ({args.boot} resamples) vs krippendorff.alpha loop "
        f"({args.loop}), same resamples, best of {REPEATS}"
    )
    print(f"{'dimension':<10} {'level':<9} {'vectorised':>11} {'loop':>10} {'ratio':>7}  "
          f"{'max |diff|, shared resamples':>28}")
    comparisons = []
    for dim, (data, _, _) in zip(dims, judgements):
        c = compare_with_loop(dim, data, args.boot, args.loop, args.seed)
        comparisons.append(c)
        print(
            f"{dim.name:<10} {dim.level:<9} {c['vectorised_s'] * 1e3:8.3f} ms {c['loop_s'] * 1e3:7.2f} ms "
            f"{c['ratio']:6.1f}x  {c['replicate_diff']:28.1e}"
        )
    ratios = [c["ratio"] for c in comparisons]
    alpha_diff = max(c["alpha_diff"] for c in comparisons)
    coincidence_diff = max(c["coincidence_diff"] for c in comparisons)
    replicate_diff = max(c["replicate_diff"] for c in comparisons)
    print(
        f"Speed-up per resample: median {np.median(ratios):.1f}x, min {min(ratios):.1f}x "
        f"(target >= {TARGET_SPEEDUP:.0f}x: {'met' if min(ratios) >= TARGET_SPEEDUP else 'NOT met'})"
    )
    print(
        f"Point estimates vs krippendorff.alpha: max |alpha() - k.alpha| = {alpha_diff:.1e}, "
        f"max |alpha_from_coincidences - k.alpha| = {coincidence_diff:.1e}"
    )
    k = compare_pairwise_kappa(args.crowd, 400, args.crowd_loop, rng)
    print(
        f"\nPairwise Cohen's kappa, {args.crowd_loop} people (10% of 400 items each, {k['pairs']} pairs): all pairs at "
        f"once {k['vectorised_s'] * 1e3:.1f} ms, cohen_kappa per pair {k['loop_s']:.2f} s, ratio {k['ratio']:.0f}x, "
        f"|diff| {k['diff']:.1e}; all {args.crowd} people at once: {k['full_s']:.2f} s"
    )
    correct = max(alpha_diff, coincidence_diff, replicate_diff, k["diff"]) <= CHECK_TOLERANCE
    print(f"Checks (tolerance {CHECK_TOLERANCE:.0e}): {'passed' if correct else 'FAILED'}")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
