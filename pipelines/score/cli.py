"""`lowinc score`, `lowinc explain`, `lowinc recipients` and `lowinc unlinked`; wired in by
pipelines.cli.

Imports inside the commands are on purpose: pipelines.cli registers every command at start,
so a command's libraries load only when it runs (see pipelines/cli.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pipelines.settings import Settings

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="as-of date YYYY-MM-01 (default: latest snapshot)")]


def score_command(as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Score every household in the cohort with the champion, explain, tier and list."""
    from rich.console import Console
    from rich.table import Table

    from pipelines.score.flow import score_and_deliver
    from pipelines.settings import load_settings

    summary = score_and_deliver(load_settings(), as_of)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, default=str))
        return
    run = summary["score"]
    out = Console()
    out.print(
        f"[bold]Scored {run['households_scored']:,} households[/bold] at {run['as_of']} with model "
        f"v{run['model_version']}; {run['explained']:,} explained; {run['listed']:,} on visit lists"
    )
    table = Table("tier", "households")
    for tier, n in run["tiers"].items():
        table.add_row(tier, f"{n:,}")
    out.print(table)
    for key, value in summary.items():
        if key != "score":
            out.print(f"{key}: {value}")
    out.print(f"Scores and visit list: {run['output']}")


def _household_of(settings: Settings, user: str, alert: int | None, code: str | None) -> tuple[str, str]:
    """The household key and as-of date (YYYY-MM-DD) of an alert number or household code,
    looked up within the user's area (the same NotFound outside it)."""
    from outreach.contacts import household_of
    from outreach.startup import open_outreach_db
    from pipelines.outreach.dispatch import utcnow

    engine = open_outreach_db(settings.outreach, settings.home)
    try:
        key, day = household_of(engine, user_name=user, now=utcnow(), alert_id=alert, code=code)
    finally:
        engine.dispose()
    return key, day.isoformat()


def _authorize(settings: Settings, user: str, household: str, village: str | None, as_of: str) -> None:
    """The export's rules for one household: an active worker or officer of its area, audited."""
    from outreach.jurisdiction import authorize_household
    from outreach.startup import open_outreach_db
    from pipelines.outreach.dispatch import utcnow

    engine = open_outreach_db(settings.outreach, settings.home)
    try:
        authorize_household(
            engine,
            user_name=user,
            household_key=household,
            village_code=village,
            now=utcnow(),
            detail={"as_of": as_of},
        )
    finally:
        engine.dispose()


def explain_command(
    household: Annotated[
        str | None, typer.Option("--household", help="household key (as in the visit list)")
    ] = None,
    alert: Annotated[
        int | None, typer.Option("--alert", help="alert number (as in the list and the message)")
    ] = None,
    code: Annotated[
        str | None, typer.Option("--code", help="household code XXXX-XXXX (as in the list)")
    ] = None,
    as_of: AsOf = None,
    user: Annotated[
        str | None, typer.Option("--user", help="who asks (default: $LOWINC_USER, else the login name)")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Explain one household's score on demand (any tier), to a worker or officer of its area
    (audited, as an export is)."""
    from features.store import read_snapshots
    from lowinc.errors import UserError
    from models.registry import load_champion
    from pipelines.outreach.cli import resolve_user
    from pipelines.score.scores import resolve_as_of
    from pipelines.settings import load_settings
    from scoring.scorer import explain_household

    settings = load_settings()
    if sum(x is not None for x in (household, alert, code)) != 1:
        raise UserError(
            "name the household once: --household KEY, --alert N or --code XXXX-XXXX",
            hint="lowinc explain --help",
        )
    if household is None:
        household, alert_as_of = _household_of(settings, resolve_user(user), alert, code)
        as_of = as_of or alert_as_of
    try:
        ts = resolve_as_of(settings.home, as_of)
    except (LookupError, ValueError) as error:
        raise UserError(str(error), hint="lowinc features") from error
    snapshot = read_snapshots(settings.home, [ts])
    villages = snapshot.loc[snapshot["household_key"] == household, "village_code"]
    village = str(villages.iloc[0]) if len(villages) else None
    _authorize(settings, resolve_user(user), household, village, f"{ts:%Y-%m-%d}")
    out = explain_household(
        snapshot, household, load_champion(settings.model, settings.home), settings.scoring
    )
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"risk {out['risk']:.3f}\n{out['reasons_zh']}\n{out['reasons_en']}\n建议: {out['action_zh']}")


def recipients_command(as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Re-verification lists of current recipients: 核查 (may no longer qualify: a check at home,
    never a removal) and 渐退 (in phase-out, at risk of falling back: visit before it ends)."""
    from dataclasses import asdict

    from pipelines.score.recipients import check_recipients
    from pipelines.settings import load_settings

    run = check_recipients(load_settings(), as_of)
    if as_json:
        typer.echo(json.dumps(asdict(run), ensure_ascii=False))
        return
    typer.echo(f"{run.recipients:,} recipient households at {run.as_of}")
    for kind, n in run.listed.items():
        typer.echo(f"  {kind}: {n:,} listed")
    typer.echo(f"Lists: {run.output}")


def unlinked_command(as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """The second list: people living in the area without local hukou, placed by their own
    rows' 区划代码 and ranked per township by the signals their rows carry (a visit, never a
    decision)."""
    from dataclasses import asdict

    from pipelines.score.unlinked import list_unlinked
    from pipelines.settings import load_settings

    run = list_unlinked(load_settings(), as_of)
    if as_json:
        typer.echo(json.dumps(asdict(run), ensure_ascii=False))
        return
    unplaced = sum(run.unplaced.values())
    typer.echo(
        f"{run.people:,} people without local hukou at {run.as_of}: {run.placed:,} placed in a village, "
        f"{unplaced:,} not placed"
    )
    for county, n in run.by_county.items():
        typer.echo(f"  {county}: {n:,} listed")
    typer.echo(f"{run.listed:,} listed; list: {run.output}")


def register(app: typer.Typer) -> None:
    """Add ``score``, ``explain``, ``recipients`` and ``unlinked`` to the main CLI."""
    app.command("score")(score_command)
    app.command("explain")(explain_command)
    app.command("recipients")(recipients_command)
    app.command("unlinked")(unlinked_command)
