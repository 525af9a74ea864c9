"""`lowinc alerts queue|send|status|requeue`, `lowinc lists export`, `lowinc visits record|import|outcomes`.

Imports inside the commands are on purpose: pipelines.cli registers every command at start,
so a command's libraries load only when it runs (see pipelines/cli.py).
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from lowinc.inputs import existing_file, parse_as_of, parse_date

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]
UserOption = Annotated[
    str | None, typer.Option("--user", help="who acts (default: $LOWINC_USER, else the login name)")
]

alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox: queue, deliver, watch.")
lists_app = typer.Typer(no_args_is_help=True, help="Visit lists for the responsible worker.")
visits_app = typer.Typer(no_args_is_help=True, help="Home checks: record what a visit found.")


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    from rich.console import Console

    console = Console()
    for line in lines:
        console.print(line)


def resolve_user(name: str | None) -> str:
    """Who acts: --user, else $LOWINC_USER, else the login name (it must be a configured, active
    user of the outreach database, or the command is refused and audited)."""
    return name or os.environ.get("LOWINC_USER") or getpass.getuser()


def _open() -> tuple[Any, Any, Path]:
    from outreach.startup import open_outreach_db
    from pipelines.outreach.dispatch import load_outreach

    config, home = load_outreach()
    return open_outreach_db(config, home), config, home


@alerts_app.command("queue")
def queue_command(
    visit_list: Annotated[Path, typer.Option("--visit-list", help="Parquet or CSV from the scoring step")],
    run_id: Annotated[str | None, typer.Option("--run-id", help="default: a new id")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue a visit list: alerts, visit tasks and outbox messages in one transaction."""
    from outreach.queue import queue_alerts
    from pipelines.outreach.dispatch import read_frame, utcnow

    frame = read_frame(existing_file(visit_list, "--visit-list"))
    engine, config, _home = _open()
    summary = queue_alerts(engine, frame, run_id or uuid.uuid4().hex[:12], utcnow(), config=config).to_dict()
    _emit(
        summary,
        as_json,
        [
            f"[bold]Queued {summary['as_of']}[/bold]: {summary['alerts']} new alerts "
            f"({summary['notify']} to notify, {summary['cooldown']} in cooldown, "
            f"{summary['watch']} watch only), {summary['already_queued']} already queued, "
            f"{summary['tasks']} visit tasks, {summary['messages']} messages "
            f"({summary['red_messages']} red), {summary['unassigned']} unassigned",
        ],
    )


@alerts_app.command("send")
def send_command(
    limit: Annotated[int | None, typer.Option(help="send at most this many")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Deliver the queued messages that are due (red alerts first), with retries and dead letters."""
    from outreach.deliver import deliver_pending
    from pipelines.outreach.dispatch import utcnow

    engine, config, _home = _open()
    summary = deliver_pending(engine, config, utcnow(), limit=limit).to_dict()
    _emit(
        summary,
        as_json,
        [
            f"[bold]Delivered[/bold]: {summary['sent']} sent, {summary['failed']} to retry, "
            f"{summary['dead']} dead letters, of {summary['due']} due",
            *[f"  {e}" for e in summary["errors"][:5]],  # type: ignore[index]
        ],
    )


@alerts_app.command("status")
def status_command(as_json: JsonFlag = False) -> None:
    """Outbox counts by status and channel, and the dead letters the data team must look at."""
    from outreach.status import outbox_status

    engine, _config, _home = _open()
    status = outbox_status(engine)
    counts = status["by_status"]
    lines = [
        f"[bold]Outbox[/bold]: {counts.get('pending', 0)} pending, {counts.get('sent', 0)} sent, "
        f"[red]{counts.get('dead', 0)} dead[/red] (oldest pending: {status['oldest_pending'] or '-'})"
    ]
    for channel, by in sorted(status["by_channel"].items()):
        lines.append(f"  {channel}: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    for d in status["dead_letters"]:
        lines.append(
            f"  dead #{d['id']} {d['kind']} {d['channel']} → {d['recipient']} "
            f"after {d['attempts']} attempts: {d['last_error']}"
        )
    _emit(status, as_json, lines)


@alerts_app.command("requeue")
def requeue_command(
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="outbox id (repeat); default: every dead letter")
    ] = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Give dead letters a fresh set of attempts once their cause is fixed."""
    from outreach.status import requeue_dead
    from pipelines.outreach.dispatch import utcnow

    engine, _config, _home = _open()
    n = requeue_dead(engine, ids, utcnow(), actor=resolve_user(user))
    _emit({"requeued": n}, as_json, [f"{n} dead letters back in the queue"])


@lists_app.command("export")
def export_command(
    town: Annotated[str, typer.Option("--town", help="9-digit township code")],
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-01")],
    user: UserOption = None,
    csv: Annotated[bool, typer.Option("--csv", help="write a CSV beside the workbook")] = False,
    heads: Annotated[
        Path | None,
        typer.Option(
            "--heads",
            help="identity rows (household_key, head_id_no, head_name); default: the hukou identity table",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The township's visit list as Excel (one sheet per village), for a user whose area covers it."""
    import pandas as pd

    from outreach.export import export_town_list
    from pipelines.outreach.dispatch import read_frame, utcnow
    from pipelines.outreach.heads import household_heads

    day = parse_as_of(as_of).date()
    engine, _config, home = _open()
    identity = (
        read_frame(existing_file(heads, "--heads")) if heads else household_heads(home, pd.Timestamp(day))
    )
    result = export_town_list(
        engine,
        home,
        town_code=town,
        as_of=day,
        user_name=resolve_user(user),
        now=utcnow(),
        heads=identity,
        write_csv=csv,
    )
    data = result.to_dict()
    _emit(
        data,
        as_json,
        [f"[bold]{data['rows']}[/bold] households in {data['villages']} sheets: {data['xlsx']}"]
        + ([f"CSV: {data['csv']}"] if data["csv"] else []),
    )


@lists_app.command("export-checks")
def export_checks_command(
    kind: Annotated[str, typer.Option("--list", help="reverify (核查) | phase_out (渐退)")],
    as_of: Annotated[str, typer.Option("--as-of", help="the list's month, YYYY-MM-01")],
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the user's rows of the 核查 or 渐退 list of the month as a workbook (one sheet per
    village, owner-only) to fill in offline; `lowinc visits check-import` reads it back."""
    from lowinc.home import HomeLayout
    from lowinc.private import private_dir, private_file
    from outreach.check_records import check_kind
    from outreach.check_sheets import export_check_list_as
    from pipelines.outreach.dispatch import utcnow

    list_kind = check_kind(kind)
    month = parse_as_of(as_of).date()
    engine, _config, home = _open()
    layout = HomeLayout(home)
    exported = export_check_list_as(
        engine, layout, resolve_user(user), kind=list_kind, as_of=month, now=utcnow()
    )
    path = private_dir(layout.exports / f"{month:%Y-%m}") / exported.filename
    path.write_bytes(exported.content)
    private_file(path)
    _emit(
        {"rows": exported.rows, "list": list_kind, "as_of": f"{month}", "xlsx": str(path)},
        as_json,
        [f"[bold]{exported.rows}[/bold] households of the {list_kind} list: {path}"],
    )


@visits_app.command("record")
def record_command(
    alert: Annotated[int, typer.Option("--alert", help="alert id (as in the message's link)")],
    visited_on: Annotated[str, typer.Option("--visited-on", help="YYYY-MM-DD")],
    result: Annotated[
        str | None,
        typer.Option(
            "--result", help="confirmed | no_hardship | assisted | unreachable | refused (or 确认困难 …)"
        ),
    ] = None,
    hardship: Annotated[
        bool | None,
        typer.Option("--hardship/--no-hardship", help="the same as --result confirmed / no_hardship"),
    ] = None,
    need: Annotated[
        list[str] | None, typer.Option("--need", help="a need found (repeat; outreach.field.needs)")
    ] = None,
    route: Annotated[
        list[str] | None, typer.Option("--route", help="a route taken (repeat; outreach.field.routes)")
    ] = None,
    note: Annotated[str | None, typer.Option(help="what was found")] = None,
    correction: Annotated[
        bool, typer.Option("--correction", help="replace the alert's recorded visit (kept as history)")
    ] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record what a home check found (结果反馈): the result, and with confirmed hardship the needs
    and the routes taken (a route of another department becomes a referral). Confirmed and
    no_hardship become labels for the model. A second record for the same alert must be a
    --correction: a new record that supersedes the old one."""
    from lowinc.errors import BadValue
    from outreach.field import result_code
    from outreach.outcomes import record_outcome
    from pipelines.outreach.dispatch import utcnow

    if (result is None) == (hardship is None):
        raise BadValue("give the visit's result once: --result R (or --hardship / --no-hardship)")
    code = result_code(result) if result is not None else ("confirmed" if hardship else "no_hardship")
    if code is None:
        raise BadValue(
            "unknown --result: use confirmed, no_hardship, assisted, unreachable or refused",
        )
    visited = parse_date(visited_on, "--visited-on")
    engine, config, _home = _open()
    field = config.field
    needs = [field.need_code(n) or n for n in need or []]
    routes = [field.route_code(r) or r for r in route or []]
    recorded = record_outcome(
        engine,
        alert_id=alert,
        user_name=resolve_user(user),
        now=utcnow(),
        note=note,
        visited_on=visited,
        result=code,
        needs=needs,
        routes=routes,
        correction=correction,
        source="cli",
        field=field,
    )
    replaced = f", superseding record {recorded.supersedes}" if recorded.supersedes else ""
    referred = f", {len(recorded.referrals)} referrals sent" if recorded.referrals else ""
    _emit(
        {**recorded.to_dict(), "alert": alert, "result": code, "hardship_confirmed": code == "confirmed"},
        as_json,
        [
            f"visit recorded as record {recorded.outcome} on task {recorded.task} (alert {alert}): "
            f"{code}, task {recorded.status}{referred}{replaced}"
        ],
    )


@visits_app.command("check")
def check_command(
    kind: Annotated[str, typer.Option("--list", help="reverify (核查) | phase_out (渐退)")],
    as_of: Annotated[str, typer.Option("--as-of", help="the list's month, YYYY-MM-01")],
    household: Annotated[str, typer.Option("--household", help="the 户编码 shown on the list")],
    checked_on: Annotated[str, typer.Option("--checked-on", help="YYYY-MM-DD")],
    result: Annotated[
        str,
        typer.Option(
            "--result",
            help="reverify: still_qualifies | review | unreachable | refused; "
            "phase_out: stable | at_risk | unreachable | refused (or the list's Chinese label)",
        ),
    ],
    note: Annotated[str | None, typer.Option(help="what was found")] = None,
    correction: Annotated[
        bool, typer.Option("--correction", help="replace the row's recorded visit (kept as history)")
    ] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a re-verification visit (定期核查) to a household of the 核查 or 渐退 list, as the
    list's page does. A record never decides eligibility: review hands the case to the township's
    own review, and nothing stops or removes assistance. A second record for the same row must be
    a --correction: a new record that supersedes the old one."""
    from lowinc.home import HomeLayout
    from outreach.check_records import check_kind, check_result
    from outreach.checks import record_check
    from pipelines.outreach.dispatch import utcnow

    list_kind = check_kind(kind)
    code = check_result(list_kind, result)
    month = parse_as_of(as_of).date()
    visited = parse_date(checked_on, "--checked-on")
    engine, config, home = _open()
    record = record_check(
        engine,
        HomeLayout(home),
        kind=list_kind,
        as_of=month,
        household_code=household,
        user_name=resolve_user(user),
        checked_on=visited,
        result=code,
        now=utcnow(),
        note=note,
        correction=correction,
        source="cli",
        field=config.field,
    )
    _emit(
        {"record": record.id, "supersedes": record.supersedes, "list": list_kind, "as_of": f"{month}"}
        | {"result": code, "correction": correction},
        as_json,
        [f"re-verification recorded as record {record.id} ({list_kind} of {month:%Y-%m}): {code}"],
    )


@visits_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="a visit list (.xlsx) with 走访日期, 核查结果, 需求, 备注 filled in")
    ],
    corrections: Annotated[
        bool,
        typer.Option("--corrections", help="a row that differs from the alert's recorded visit replaces it"),
    ] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Read the fill-in columns of an exported visit list back, under the same rules and audit as
    the web form; prints how many rows were recorded, unchanged, empty and refused (with why)."""
    from outreach.importer import import_visits, read_upload
    from pipelines.outreach.dispatch import utcnow

    data = read_upload(file)
    engine, config, _home = _open()
    report = import_visits(
        engine, data, user_name=resolve_user(user), now=utcnow(), field=config.field, corrections=corrections
    )
    _report_import(report, "rows with an alert number", as_json)


def _report_import(report: Any, rows: str, as_json: bool) -> None:
    """An import's counts and each refused row; exit code 1 when a row was refused."""
    _emit(
        report.to_dict(),
        as_json,
        [
            f"[bold]{report.rows}[/bold] {rows}: {report.recorded} recorded "
            f"({report.corrected} corrections), {report.unchanged} unchanged, {report.empty} empty, "
            f"{len(report.refused)} refused",
            *[f"  refused: {p.line()}" for p in report.refused],
        ],
    )
    if report.refused:
        raise typer.Exit(1)


@visits_app.command("check-import")
def check_import_command(
    file: Annotated[
        Path,
        typer.Argument(help="a 核查/渐退 workbook (lists export-checks) with 核查日期, 核查结果 filled in"),
    ],
    corrections: Annotated[
        bool,
        typer.Option(
            "--corrections", help="a row that differs from the household's recorded visit replaces it"
        ),
    ] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Read the fill-in columns of an exported 核查 or 渐退 workbook back, under the same rules and
    audit as the list's page; prints how many rows were recorded, unchanged, empty and refused."""
    from lowinc.home import HomeLayout
    from outreach.check_sheets import import_checks
    from outreach.importer import read_upload
    from pipelines.outreach.dispatch import utcnow

    data = read_upload(file)
    engine, config, home = _open()
    report = import_checks(
        engine,
        HomeLayout(home),
        data,
        user_name=resolve_user(user),
        now=utcnow(),
        field=config.field,
        corrections=corrections,
    )
    _report_import(report, "rows of listed households", as_json)


@visits_app.command("outcomes")
def outcomes_command(as_json: JsonFlag = False) -> None:
    """Counts of recorded visits by result and of the labels they give (the labels themselves
    stay in the database)."""
    from outreach.field import RESULTS
    from outreach.outcomes import outcome_counts, visit_outcomes

    engine, _config, _home = _open()
    labels = visit_outcomes(engine)
    by_result = outcome_counts(engine)
    data = {
        "visits": len(labels),
        "hardship_confirmed": int(labels["hardship_confirmed"].sum()),
        "by_result": by_result,
    }
    _emit(
        data,
        as_json,
        [
            f"{data['visits']} visits with a label, {data['hardship_confirmed']} confirmed hardship",
            "  " + ", ".join(f"{RESULTS[code][0]} {n}" for code, n in by_result.items()),
        ],
    )


def register(app: typer.Typer) -> None:
    """Add the ``alerts``, ``lists``, ``visits``, ``needs`` and ``referrals`` sub-apps to the main CLI."""
    from pipelines.outreach.field_cli import needs_app, referrals_app

    app.add_typer(alerts_app, name="alerts")
    app.add_typer(lists_app, name="lists")
    app.add_typer(visits_app, name="visits")
    app.add_typer(needs_app, name="needs")
    app.add_typer(referrals_app, name="referrals")
