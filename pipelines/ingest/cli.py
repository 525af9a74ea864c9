"""`lowinc ingest`: the CLI command; the lead wires :func:`register` into pipelines.cli."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from ingest import delivery
from lowinc.errors import BadValue, NotFound
from lowinc.months import check_month
from lowinc.pseudonym import load_key
from pipelines.ingest import workers
from pipelines.notify import notify_ingest
from pipelines.settings import load_settings


def ingest_command(
    month: Annotated[str | None, typer.Option(help="delivery month YYYY-MM")] = None,
    all_months: Annotated[bool, typer.Option("--all", help="every month under <home>/raw")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON record per file on stdout")] = False,
) -> None:
    """Read, validate, quarantine, pseudonymise and link one delivery month (or all)."""
    if not (all_months or month):
        raise BadValue("give a delivery month or --all", hint="lowinc ingest --month YYYY-MM (or --all)")
    if month is not None:
        check_month(month)  # before anything is read or written
    settings = load_settings()
    paths = settings.layout
    sources = delivery.sources_from(settings.sources_dir)
    requested = delivery.delivered_months(paths.raw) if all_months else [month or ""]
    if not requested:
        raise NotFound(
            f"no delivery month folder (YYYY-MM) under {paths.raw}",
            hint=f"lowinc simulate, or put the departments' files in {paths.raw}/<source>/YYYY-MM/",
        )
    months = delivery.months_to_ingest(requested, paths)
    key = load_key(paths.secure)
    err = Console(stderr=True)
    if again := sorted(set(months) - set(requested)):
        err.print(f"Also re-ingesting {', '.join(again)}: later months depend on {min(requested)}.")
    n = workers.worker_count(settings.ingest.workers, len(sources))
    with Progress(console=err, transient=True, disable=as_json) as progress:
        bar = progress.add_task(f"ingest ({n} worker processes)", total=len(months))
        reports = workers.ingest_with_workers(
            months,
            paths,
            sources,
            key,
            workers=n,
            fallback_dates=settings.ingest.fallback_dates,
            on_month=lambda r: progress.update(bar, advance=1, description=f"ingested {r.month}"),
        )
    notice = notify_ingest(reports, settings)
    if notice["queued"]:
        err.print(f"Told the data team: {notice['findings']} ({notice['sent']} message(s) sent).")
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
