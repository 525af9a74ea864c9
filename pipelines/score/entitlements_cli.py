"""`lowinc entitlements`: the entitlement check (应救尽救) of an as-of date; wired in by
pipelines.cli. Imports inside the command are on purpose (see pipelines/cli.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="as-of date YYYY-MM-01 (default: latest snapshot)")]
HEADERS = ("programme", "eligible", "receiving", "gap", "gap yuan/month")  # gap: eligible, not receiving


def _table(title: str, programmes: dict[str, dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(*HEADERS, title=title)
    for code, c in programmes.items():
        amount = c["est_monthly_not_receiving"] or c["est_one_off_not_receiving"]
        unit = "" if c["est_monthly_not_receiving"] or not amount else " (one-off)"
        table.add_row(
            code,
            f"{c['eligible']:,}",
            f"{c['receiving']:,}",
            f"{c['eligible_not_receiving']:,}",
            f"{amount:,.0f}{unit}",
        )
    return table


def entitlements_command(as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Check every household's likely entitlements against what it receives (a suggestion of
    what to offer at a visit, never a decision) and write entitlements.parquet."""
    from rich.console import Console

    from pipelines.score.entitlements import write_entitlements
    from pipelines.settings import load_settings

    settings = load_settings()
    run = write_entitlements(settings, as_of)
    if as_json:
        typer.echo(json.dumps(run.to_dict(), ensure_ascii=False))
        return
    out = Console(soft_wrap=True)
    names = settings.entitlements.names_zh
    out.print(
        f"[bold]Entitlement check[/bold] at {run.as_of}: {run.households:,} households; "
        f"{run.townships_with_gaps} townships with households likely eligible and not receiving (gap)"
    )
    out.print(_table("all counties", run.programmes))
    out.print("  " + " · ".join(f"{code} {names.get(code, '')}" for code in run.programmes))
    for county, programmes in run.counties.items():
        out.print(_table(f"county {county}", programmes))
    out.print(f"Entitlements (keys and codes only): {run.output}")
    out.print("A suggestion of what to offer at a visit; eligibility is decided by the assessment.")


def register(app: typer.Typer) -> None:
    """Add ``entitlements`` to the main CLI."""
    app.command("entitlements")(entitlements_command)
