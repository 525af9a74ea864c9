"""The home's layout has one owner: lowinc/home.py names its folders, nothing else spells them."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pandas as pd

from lowinc.home import SCORES_FILE, VISIT_LIST_FILE, HomeLayout
from lowinc.settings import REPO_ROOT

PACKAGES = ("lowinc", "ingest", "features", "models", "scoring", "outreach", "monitoring", "simulator")
PACKAGES += ("pipelines", "benchmarks")
# Modules another helper of issue 13 rewrites in parallel; the integrator wires HomeLayout into
# them after the merge and empties this tuple.
PENDING: tuple[str, ...] = ()


def home_names() -> frozenset[str]:
    """Every folder and fixed file name of the layout (the parts below the root)."""
    layout = HomeLayout(Path("/home-root"))
    paths = [
        getattr(layout, name) for name in dir(HomeLayout) if isinstance(getattr(HomeLayout, name), property)
    ]
    paths = [p for p in paths if isinstance(p, Path)]
    paths += [*layout.personal_data, layout.visit_list(dt.date(2024, 1, 1)), layout.scores_file("2024-01-01")]
    return frozenset(part for p in paths for part in p.relative_to(layout.root).parts if "=" not in part)


def _spelled(node: ast.expr, names: frozenset[str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        first = node.value.strip("/").split("/")[0]
        return node.value if first in names else None
    return None


def home_spellings(source: str, names: frozenset[str]) -> list[tuple[int, str]]:
    """(line, literal) of each home name used in a path expression: ``x / "canonical"``,
    ``"reports/ingest"`` joined to a path, ``x.joinpath("mlflow")``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        parts: list[ast.expr] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = [node.left, node.right]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "joinpath"
        ):
            parts = list(node.args)
        found += [(node.lineno, text) for part in parts if (text := _spelled(part, names))]
    return found


def test_the_layout_names_every_folder_of_the_home():
    layout = HomeLayout(Path("/h"))
    assert layout.identity == Path("/h/secure/identity")
    assert layout.ingest_reports == Path("/h/reports/ingest")
    assert layout.snapshots == Path("/h/features/snapshots") and layout.feature_truth == Path(
        "/h/features/truth"
    )
    assert layout.mlflow_db == Path("/h/mlflow/mlflow.db") and layout.exports == Path("/h/outreach/exports")
    # one path for an as-of date's scores, whether the date comes as a date or as a flow's string
    assert layout.visit_list(pd.Timestamp("2024-01-01")) == layout.visit_list("2024-01-01")
    assert layout.scores_at(dt.date(2024, 1, 1)) == Path("/h/scores/as_of=2024-01-01")
    below = {layout.identity, layout.ingest_reports, layout.snapshots, layout.feature_truth}
    assert set(layout.outputs) - set(layout.personal_data) == below


def test_the_guard_finds_a_spelled_folder():
    names = home_names()
    assert {"canonical", "secure", "identity", "mlflow.db", "inbox", "visit_list.parquet"} <= names
    source = (
        'a = home / "canonical"\nb = Path(h) / "reports/ingest"\nc = h.joinpath("mlflow")\nd = x / "docs"\n'
    )
    assert [text for _, text in home_spellings(source, names)] == ["canonical", "reports/ingest", "mlflow"]


def test_no_module_but_lowinc_home_spells_a_home_folder():
    names = home_names()
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if rel == "lowinc/home.py" or rel.startswith(PENDING):
                continue
            offenders += [f"{rel}:{line} {text!r}" for line, text in home_spellings(path.read_text(), names)]
    assert offenders == [], "ask lowinc.home.HomeLayout (settings.layout) for these folders"


def test_dates_with_a_file_are_the_written_as_of_folders_oldest_first(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path)
    assert layout.dates_with(VISIT_LIST_FILE) == [] and layout.visit_lists_before(dt.date(2024, 1, 1)) == []
    for day in ("2023-12-01", "2023-10-01", "2023-11-01"):
        layout.scores_at(day).mkdir(parents=True)
        layout.visit_list(day).touch()
    layout.scores_file("2023-11-01").touch()
    (layout.scores / "as_of=2023-09-01.tmp").mkdir()  # a write in progress
    (layout.scores / "as_of=2023-09-01.tmp" / VISIT_LIST_FILE).touch()
    months = [dt.date(2023, 10, 1), dt.date(2023, 11, 1), dt.date(2023, 12, 1)]
    assert layout.dates_with(VISIT_LIST_FILE) == months
    assert layout.dates_with(SCORES_FILE) == [dt.date(2023, 11, 1)]
    assert layout.visit_lists_before(dt.date(2023, 12, 1)) == [
        layout.visit_list("2023-10-01"),
        layout.visit_list("2023-11-01"),
    ]
