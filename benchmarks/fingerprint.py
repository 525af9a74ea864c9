"""Fingerprint of every output of a project home: proof that a refactor changes no behaviour.

With ``--run`` it first runs the default region's loop into the home, stage by stage, each
stage the real ``lowinc`` command in its own process (the stages of ``benchmarks.loop``:
simulate, ingest every month, every monthly feature snapshot the data allows, train, score the
latest as-of), with the embedded configuration (its seed) and a fixed test pseudonym key.
Then it hashes the content of every output under the home (:attr:`~lowinc.home.HomeLayout.outputs`: department
extracts and simulated truth, canonical tables, quarantine, identity map, ingest reports,
feature snapshots and truth, scores and visit lists) into a manifest
``{relative path: sha256}``; ``--compare`` prints what differs from another manifest.

    .venv/bin/python -m benchmarks.fingerprint --home DIR --run --out before.json
    .venv/bin/python -m benchmarks.fingerprint --home DIR2 --run --compare before.json

Content, not bytes: a Parquet file is hashed as its Arrow schema (without the pandas and
writer metadata) and its rows read back with pyarrow, in file order (the order is part of
the contract; ``--sort`` sorts rows by every column first); a JSON report is hashed as
canonical JSON without its volatile fields (:data:`VOLATILE_KEYS`); any other file (the
department extracts, the Markdown reports) by its bytes. The model files, MLflow's store, the run ids
and the outreach database (timestamps, ids) are left out: the model's behaviour is in its
scores. Exits 1 when ``--compare`` finds a difference. ``docs/architecture-proof.md`` says how
to use it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.loop import LOWINC, loop_stages, lowinc_env, run_stage
from lowinc.home import HomeLayout

TEST_PSEUDONYM_KEY = "lowinc-fingerprint-test-key-not-a-secret"
"""The fixed pseudonym key of a fingerprint run, so household keys are the same in every run."""

# The folders whose every file is an output to fingerprint: HomeLayout.outputs (not the
# pseudonym key nor the stage logs either).

VOLATILE_KEYS = frozenset({"seconds"})
"""JSON keys whose values may change from run to run with no change of behaviour, dropped at
any depth before hashing: ``seconds``, the product's name for wall times in its summaries.
Two runs into two homes (Dec 2026) found no other: the ingest reports and the simulator's
``truth/summary.json`` hold no clock time, duration or absolute path."""

SKIPPED_SUFFIXES = (".tmp", ".log", ".lock")


def _digest(chunks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(len(chunk).to_bytes(8, "little"))
        h.update(chunk)
    return h.hexdigest()


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """The schema without file-level metadata (pandas' index description, the writer)."""
    return schema.remove_metadata()


def parquet_digest(path: Path, *, sort: bool = False) -> str:
    """Hash of a Parquet file's content: its schema and its rows, read back with pyarrow
    (in file order, or with ``sort`` sorted by every column that can be sorted: not lists,
    structs or dictionaries); the encoding, compression, row
    groups and writer metadata do not count."""
    table = pq.read_table(path)
    table = table.replace_schema_metadata(None)
    if sort and table.num_rows:
        sortable = [
            name for name, t in zip(table.column_names, table.schema.types, strict=True) if _sortable(t)
        ]
        table = table.take(pc.sort_indices(table, sort_keys=[(n, "ascending") for n in sortable]))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.combine_chunks().to_batches(max_chunksize=65_536):
            writer.write_batch(batch)
    return _digest([_plain_schema(table.schema).to_string().encode(), sink.getvalue().to_pybytes()])


def _sortable(t: pa.DataType) -> bool:
    return not (pa.types.is_nested(t) or pa.types.is_dictionary(t) or pa.types.is_null(t))


def strip_volatile(value: Any) -> Any:
    """A JSON value without its volatile keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def json_digest(path: Path) -> str:
    """Hash of a JSON document as canonical JSON (sorted keys, no spaces) without its
    volatile fields."""
    document = strip_volatile(json.loads(path.read_text(encoding="utf-8")))
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return _digest([canonical.encode()])


def file_digest(path: Path, *, sort: bool = False) -> str:
    """The content hash of one output file, by its kind."""
    if path.suffix == ".parquet":
        return parquet_digest(path, sort=sort)
    if path.suffix == ".json":
        return json_digest(path)
    return _digest([path.read_bytes()])


def output_files(home: Path) -> Iterator[Path]:
    """Every output file under the fingerprinted folders of ``home``, in path order."""
    for root in HomeLayout(home).outputs:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and not path.name.endswith(SKIPPED_SUFFIXES):
                yield path


def manifest(home: Path, *, sort: bool = False) -> dict[str, str]:
    """``{path relative to home: sha256 of its content}`` for every output of ``home``."""
    return {path.relative_to(home).as_posix(): file_digest(path, sort=sort) for path in output_files(home)}


def compare(current: dict[str, str], reference: dict[str, str]) -> dict[str, list[str]]:
    """The paths that differ, are missing from ``current`` or are new in it, each sorted."""
    return {
        "differ": sorted(p for p in current.keys() & reference.keys() if current[p] != reference[p]),
        "missing": sorted(reference.keys() - current.keys()),
        "new": sorted(current.keys() - reference.keys()),
    }


def default_region() -> tuple[int, int, str]:
    """(households, months, start YYYY-MM) of the embedded configuration, as ``lowinc config``
    reports it with no ``LOWINC_*`` override."""
    out = subprocess.run(
        [LOWINC, "config", "--json"],
        env=lowinc_env("/nonexistent"),
        capture_output=True,
        check=True,
        text=True,
    )
    simulation = json.loads(out.stdout)["settings"]["simulation"]
    return int(simulation["households"]), int(simulation["months"]), str(simulation["start"])


def run_loop(home: Path) -> float:
    """Run the default region's loop into ``home``, each stage the ``lowinc`` command in its
    own process with the fixed test pseudonym key; the wall time in seconds."""
    households, months, start = default_region()
    env = lowinc_env(home, LOWINC_PSEUDONYM_KEY=TEST_PSEUDONYM_KEY)
    home.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for name, stage in loop_stages(households, months, start):
        seconds, _ = run_stage(stage, env, home / f"fingerprint-{stage[0]}.log")
        total += seconds
        print(f"  {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return total


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (1 when ``--compare`` finds a difference)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", required=True, type=Path, help="the project home to fingerprint")
    parser.add_argument("--run", action="store_true", help="run the default region's loop into it first")
    parser.add_argument("--out", type=Path, help="write the manifest here (JSON)")
    parser.add_argument("--compare", type=Path, help="a manifest to compare with")
    parser.add_argument("--sort", action="store_true", help="hash Parquet rows sorted by every column")
    args = parser.parse_args(argv)
    home: Path = args.home.resolve()
    if args.run and home.exists() and any(home.iterdir()):
        # outputs left by an earlier run would be hashed as if this run had written them
        parser.error(f"--run needs an empty or new home, and {home} is not empty")
    if args.run:
        seconds = run_loop(home)
        print(f"loop: {seconds / 60:.1f} min", file=sys.stderr)
    started = time.perf_counter()
    current = manifest(home, sort=args.sort)
    print(f"hashed {len(current)} files in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    if args.compare is None:
        return 0
    found = compare(current, json.loads(args.compare.read_text(encoding="utf-8")))
    for kind, paths in found.items():
        for path in paths:
            print(f"{kind}: {path}")
    if any(found.values()):
        print(f"{sum(map(len, found.values()))} outputs differ from {args.compare}", file=sys.stderr)
        return 1
    print(f"identical: {len(current)} outputs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
