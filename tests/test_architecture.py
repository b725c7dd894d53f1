"""The import graph of the apps: data flows annotations → clipworker → alignment, so imports point back
only (alignment may import clipworker and annotations, clipworker may import annotations, annotations
imports neither); no two modules import each other, directly or round a loop; no module imports
another module's private (leading underscore) name: a private import is a missing public function.

Every `import` counts, at module level or inside a function: an import deferred into a function is
still a dependency. Modules are read with `ast`, never imported, so the check needs no settings.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("annotations", "clipworker", "alignment")  # lowest first: an app imports only apps before it
PACKAGES = (*APPS, "config")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the apps and config (migrations left out)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for each import of a module of ours."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package (a package's __init__ is its own package)
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                # `from alignment import stats` imports a module; `from .loader import study_rows` a name
                found.append((submodule, None, node.lineno) if submodule in known
                             else (target, alias.name, node.lineno))
    return [(target, imported, line) for target, imported, line in found if target in known]


def import_graph() -> tuple[dict[str, set[str]], list[str], list[str]]:
    """(module -> modules it imports, imports against the flow, private names imported across modules)."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    against, private = [], []
    for name, path in known.items():
        for target, imported, line in imports(name, path, known):
            where = f"{path.relative_to(ROOT)}:{line}"
            app, target_app = name.split(".")[0], target.split(".")[0]
            if app in APPS and target_app in APPS and APPS.index(target_app) > APPS.index(app):
                against.append(f"{where}: {name} imports {target} ({app} is below {target_app})")
            if imported and imported.startswith("_") and not imported.startswith("__") and target != name:
                private.append(f"{where}: {name} imports {imported} from {target}")
            if target != name:
                edges[name].add(target)
    return edges, against, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_covers_every_app_module(graph):
    edges, _, _ = graph
    expected = {"annotations.models", "clipworker.runs", "alignment.loader", "alignment.stats", "config.settings"}
    assert expected <= set(edges)
    assert "alignment.loader" in edges["alignment.reports"]  # relative imports are resolved


def test_no_app_imports_an_app_above_it(graph):
    _, against, _ = graph
    assert against == [], "imports against the flow annotations → clipworker → alignment:\n" + "\n".join(against)


def test_no_module_imports_a_private_name_of_another(graph):
    _, _, private = graph
    assert private == [], "private names imported across modules (make them public):\n" + "\n".join(private)


def test_no_modules_import_each_other(graph):
    edges, _, _ = graph
    loops = cycles(edges)
    assert loops == [], "import cycles:\n" + "\n".join(" <-> ".join(loop) for loop in loops)


def test_the_cycle_finder_finds_a_loop_and_nothing_else():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


QUERYSET_METHODS = {"objects", "filter", "exclude", "values_list", "order_by", "select_related", "prefetch_related",
                    "annotate", "aggregate", "select_for_update", "bulk_create", "save", "delete", "refresh_from_db"}
# alignment's pipeline after the loader: they work on the rows it read (rows → arrays → JSON → text,
# and the dashboard's context), so none of them touches the ORM.
AFTER_THE_LOADER = sorted(["rows", "arrays", "coding", "figures"] + [
    path.stem for pattern in ("report_*.py", "render_*.py", "dashboard*.py")
    for path in (ROOT / "alignment").glob(pattern)])


def test_the_pipeline_after_the_loader_is_found_by_its_names():
    assert {"report_figures", "report_strata", "render_report", "render_svg", "dashboard"} <= set(AFTER_THE_LOADER)


@pytest.mark.parametrize("name", AFTER_THE_LOADER)
def test_only_the_loader_queries_in_alignment(name):
    tree = ast.parse((ROOT / "alignment" / f"{name}.py").read_text(encoding="utf-8"))
    used = sorted({node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} & QUERYSET_METHODS)
    assert used == [], f"alignment.{name} uses the ORM ({', '.join(used)}): read through alignment.loader"
