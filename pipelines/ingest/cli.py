"""`lowinc ingest`: the CLI command; the lead wires :func:`register` into pipelines.cli."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lowinc.pseudonym import load_key
from lowinc.settings import load_settings
from pipelines.ingest import run, store


def ingest_command(
    month: Annotated[str | None, typer.Option(help="delivery month YYYY-MM")] = None,
    all_months: Annotated[bool, typer.Option("--all", help="every month under <home>/raw")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON record per file on stdout")] = False,
) -> None:
    """Read, validate, quarantine, pseudonymise and link one delivery month (or all)."""
    from rich.console import Console
    from rich.progress import Progress

    settings = load_settings()
    paths = store.IngestPaths(settings.home)
    sources = run.sources_from(settings.ingest.sources_dir)
    requested = run.delivered_months(paths.raw) if all_months else [month] if month else []
    if not requested:
        raise typer.BadParameter("give --month YYYY-MM or --all (and deliveries under raw/)")
    months = run.months_to_ingest(requested, paths)
    key = load_key(paths.secure)
    err = Console(stderr=True)
    if again := sorted(set(months) - set(requested)):
        err.print(f"Also re-ingesting {', '.join(again)}: later months depend on {min(requested)}.")
    reports = []
    with Progress(console=err, transient=True, disable=as_json) as progress:
        bar = progress.add_task("ingest", total=len(months) * len(sources))
        for m in months:
            run.start_month(m, paths)
            file_reports = []
            for src in sources.values():
                progress.update(bar, description=f"{m} {src.source}")
                file_reports.extend(
                    run.ingest_source(src, m, paths, key, fallback_dates=settings.ingest.fallback_dates)
                )
                progress.advance(bar)
            reports.append(run.finish_month(sources, m, paths, file_reports))
    if as_json:
        for r in reports:
            for f in r.to_dict()["files"]:
                keep = (
                    "source",
                    "table",
                    "file",
                    "status",
                    "message",
                    "rows_in",
                    "accepted",
                    "quarantined",
                    "quarantined_by_reason",
                    "duplicates",
                    "unlinked",
                )
                typer.echo(json.dumps({"month": r.month} | {k: f[k] for k in keep}, ensure_ascii=False))
        return
    out = Console()
    for r in reports:
        out.print(r.to_markdown())
    bad = sum(r.totals()["rejected_files"] for r in reports)
    if bad:
        err.print(f"[yellow]{bad} file(s) rejected: see the report[/yellow]")


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` command to the main CLI."""
    app.command("ingest")(ingest_command)
