"""`lowinc features`: the CLI command; :func:`register` adds it to pipelines.cli."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from lowinc.errors import BadValue
from lowinc.inputs import parse_as_of
from pipelines.features import snapshots
from pipelines.settings import load_settings


def features_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="one as-of date, the 1st of a month")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first as-of date of a monthly range")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last as-of date of a monthly range")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="a machine-readable summary on stdout")] = False,
) -> None:
    """Household feature snapshots and labels, point in time (one or a monthly range)."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    settings = load_settings()
    if as_of and not (start or end):
        as_ofs = snapshots.as_of_range(parse_as_of(as_of), parse_as_of(as_of))
    elif start and end and not as_of:
        as_ofs = snapshots.as_of_range(parse_as_of(start, "--from"), parse_as_of(end, "--to"))
    else:
        raise BadValue(
            "give one as-of date or a range", hint="lowinc features --as-of YYYY-MM-01, or --from and --to"
        )
    for t in as_ofs:  # refuse before any work, not halfway through a range
        snapshots.require_delivered(settings.layout.canonical, t)
    err = Console(stderr=True)
    started = time.perf_counter()
    divisions = snapshots.load_divisions()
    summaries = []
    with Progress(console=err, transient=True, disable=as_json) as progress:
        bar = progress.add_task("features", total=len(as_ofs))
        for t in as_ofs:
            progress.update(bar, description=f"features {t:%Y-%m-%d}")
            summaries.append(snapshots.build_one(settings, t, divisions=divisions))
            progress.advance(bar)
    wall = round(time.perf_counter() - started, 2)
    if as_json:
        typer.echo(
            json.dumps({"snapshots": [s.to_dict() for s in summaries], "seconds": wall}, ensure_ascii=False)
        )
        return
    table = Table("as of", "households", "cohort", "positives", "labels complete", "seconds")
    for s in summaries:
        table.add_row(
            s.as_of,
            f"{s.rows:,}",
            f"{s.cohort:,}",
            f"{s.positives:,}",
            "yes" if s.label_complete else "no",
            f"{s.seconds['total']:.1f}",
        )
    Console().print(table)
    root = Path(summaries[0].path).parent
    Console().print(f"{len(summaries)} snapshot(s), {summaries[0].columns} columns, {wall:.1f} s, in {root}")


def register(app: typer.Typer) -> None:
    """Add the ``features`` command to the main CLI."""
    app.command("features")(features_command)
