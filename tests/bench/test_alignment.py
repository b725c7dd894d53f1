from bench import alignment as alignment_bench


def test_benchmark_runs_on_a_small_study_and_its_checks_pass(capsys):
    exit_code = alignment_bench.main(["--items", "300", "--raters", "5", "--dims", "7", "--boot", "30",
                                      "--loop", "3", "--crowd", "40", "--crowd-loop", "12",
                                      "--large-raters", "60", "--large-items", "120"])
    printed = capsys.readouterr().out
    assert exit_code == 0
    assert "Checks (tolerance 1e-09): passed" in printed
    assert printed.count("nominal") >= 3 and "interval" in printed and "ordinal" in printed
    assert "Pairwise Cohen's kappa, 12 people" in printed
    assert "60 annotators x 120 items, 10 judgements per item" in printed and "peak memory" in printed


def test_quick_flag_shrinks_the_run():
    args = alignment_bench.parse_args(["--quick"])
    assert (args.items, args.boot, args.loop, args.crowd, args.crowd_loop) == (2_000, 200, 10, 200, 40)
