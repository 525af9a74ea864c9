"""Personal data is owner-only whatever the umask: a real simulate, ingest, features, queue and
Excel export through the ``lowinc`` entry point, started with the usual umask 0o022; then
every folder under the home is 0700 and every file 0600 (quarantine, secure, outreach and its
database, exports, reports, canonical, features, raw, truth). The configuration is a copy of
the checkout's in its own folder (``LOWINC_CONFIG_DIR``), its sources read from there."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lowinc.home import HomeLayout
from lowinc.settings import DEFAULT_CONFIG_DIR
from tests.outreach.factory import TOWN_A, heads, make_config, visit_list

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
TIERS = {0: "red", 1: "orange", 10: "yellow", 20: "red"}
TINY_REGION = {
    "LOWINC_SIMULATION__HOUSEHOLDS": "300",
    "LOWINC_SIMULATION__MONTHS": "2",
    "LOWINC_SIMULATION__COUNTY": "330503",
    "LOWINC_SIMULATION__MC_MONTHS": "[]",
}


def _loose_umask() -> None:
    os.umask(0o022)


def run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        preexec_fn=_loose_umask,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def written_home(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("private")
    configs = tmp / "configs"
    shutil.copytree(DEFAULT_CONFIG_DIR, configs)
    (configs / "outreach.yaml").write_text(
        yaml.safe_dump({"outreach": make_config().model_dump(mode="json")}, allow_unicode=True),
        encoding="utf-8",
    )
    home = tmp / "home"
    for made_earlier in ("outreach", "quarantine", "truth"):  # by an older version, umask 0o022
        (home / made_earlier).mkdir(parents=True)
        os.chmod(home / made_earlier, 0o755)
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOWINC_", "PREFECT_"))}
    env |= TINY_REGION | {
        "LOWINC_HOME": str(home),
        "LOWINC_CONFIG_DIR": str(configs),
        "PREFECT_HOME": str(tmp / "prefect"),
    }
    visit_list(TIERS).to_parquet(tmp / "visits.parquet")
    heads(list(TIERS)).to_parquet(tmp / "heads.parquet")
    run(env, "simulate", "--json")
    run(env, "ingest", "--all", "--json")
    run(env, "features", "--as-of", "2022-02-01", "--json")
    run(env, "alerts", "queue", "--visit-list", str(tmp / "visits.parquet"), "--json")
    run(env, "lists", "export", "--town", TOWN_A, "--as-of", "2024-06-01", "--user", "李强", "--csv",
        "--heads", str(tmp / "heads.parquet"), "--json")  # fmt: skip
    return home


def test_every_personal_data_folder_was_written(written_home):
    layout = HomeLayout(written_home)
    for folder in layout.personal_data:
        if folder != layout.scores:  # scoring needs a trained model: not run here
            assert any(folder.iterdir()), folder
    assert list(layout.quarantine.rglob("*.parquet"))
    assert list(layout.exports.rglob("*.xlsx"))
    assert list(layout.outreach.glob("outreach.db*"))


def test_every_folder_is_0700_and_every_file_0600_under_a_loose_umask(written_home):
    loose = []
    for path in [written_home, *written_home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            loose.append(f"{oct(mode)} {path.relative_to(written_home)}")
    assert not loose, loose[:20]
    assert stat.S_IMODE((written_home / "quarantine").stat().st_mode) == 0o700
    db = written_home / "outreach" / "outreach.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_library_use_without_an_entry_point_still_writes_private_partitions(tmp_path):
    """write_partition under a loose umask, into a root made earlier with 0755."""
    import pandas as pd

    from ingest.store import write_partition

    old = os.umask(0o022)
    try:
        root = tmp_path / "quarantine"
        root.mkdir(mode=0o755)
        path = write_partition(pd.DataFrame({"id_no": ["x"]}), root, "medical", "2024-01")
    finally:
        os.umask(old)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert (
        stat.S_IMODE(path.parent.stat().st_mode) == stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
