"""probe_cli on any files and columns (issue 16, item 2)."""
import json

import numpy as np

from clipworker.probe import probe_cross_val
from clipworker.probe_cli import load_tables, main


def _table(path, centre, rng, n=12, with_groups=True):
    lines = ["vec,grp,share"]
    for i in range(n):
        vector = (np.asarray(centre) + 0.3 * rng.standard_normal(3)).round(4).tolist()
        lines.append(f"\"{json.dumps(vector)}\",{'g' + str(i % 4) if with_groups else ''},{i / n}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_any_tables_and_columns_give_the_probe_of_the_same_arrays(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a = _table(tmp_path / "a.csv", [1, 0, 0], rng)
    b = _table(tmp_path / "b.csv", [0, 1, 0], rng, with_groups=False)
    X, y, groups, shares = load_tables([f"{a}=cat", f"{b}=dog"], "vec", None, "grp", "share")
    assert X.shape == (24, 3) and list(y[:1]) + list(y[-1:]) == ["cat", "dog"]
    assert len(set(groups[:12])) == 4 and len(set(groups[12:])) == 12  # b has no groups: each row its own
    expected = probe_cross_val(X, y, groups, n_splits=3, seed=0)["accuracy"]
    assert main(["--table", f"{a}=cat", "--table", f"{b}=dog", "--embedding-column", "vec", "--group-column", "grp",
                 "--share-column", "share", "--splits", "3"]) == 0
    out = capsys.readouterr().out
    assert f"cross-validated accuracy:          {expected:.3f}" in out
    assert "Spearman rho between out-of-fold P(dog) and share" in out
