"""`lowinc needs export|met` and `lowinc referrals list|update`: the township's follow-up.

Imports inside the commands are on purpose (see pipelines/cli.py): a command's libraries load
only when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pipelines.outreach.cli import JsonFlag, UserOption, _emit, _open, resolve_user

needs_app = typer.Typer(no_args_is_help=True, help="The needs register (救助对象需求库).")
referrals_app = typer.Typer(no_args_is_help=True, help="Referrals to other departments (转办转介).")


@needs_app.command("export")
def needs_export_command(
    town: Annotated[
        str | None, typer.Option("--town", help="9-digit township code (default: all of your area)")
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="a CSV instead of a workbook")] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The open needs and referrals of a township (or of your whole area) as Excel or CSV, for a
    town or county officer covering it (audited)."""
    from lowinc.home import HomeLayout
    from lowinc.private import private_dir, private_file
    from outreach.needs import export_register
    from outreach.outcomes import local_today
    from pipelines.outreach.dispatch import utcnow

    engine, config, home = _open()
    now = utcnow()
    result = export_register(
        engine,
        user_name=resolve_user(user),
        now=now,
        today=local_today(now),
        town=town,
        as_csv=csv,
        field=config.field,
    )
    folder = private_dir(HomeLayout(home).exports / "needs")
    path = folder / result.filename
    path.write_bytes(result.content)
    private_file(path)
    data = {"file": str(path), "needs": result.needs, "referrals": result.referrals}
    _emit(
        data, as_json, [f"[bold]{result.needs}[/bold] open needs, {result.referrals} open referrals: {path}"]
    )


@needs_app.command("met")
def need_met_command(
    need: Annotated[int, typer.Argument(help="need id (需求编号 in the register)")],
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Mark a need met; the visit's task is closed once nothing of it is open."""
    from outreach.referrals import mark_need_met
    from pipelines.outreach.dispatch import utcnow

    engine, _config, _home = _open()
    done = mark_need_met(engine, need_id=need, user_name=resolve_user(user), now=utcnow())
    _emit(done.to_dict(), as_json, [f"need {done.id} met (alert {done.alert_id}, task {done.task_status})"])


@referrals_app.command("list")
def referrals_list_command(
    town: Annotated[str | None, typer.Option("--town", help="9-digit township code")] = None,
    department: Annotated[str | None, typer.Option("--department", help="e.g. 医保局")] = None,
    closed: Annotated[bool, typer.Option("--all", help="also done and declined ones")] = False,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Referrals of your area (open ones unless --all), oldest due first, audited."""
    from outreach.needs import view_register
    from outreach.outcomes import local_today
    from pipelines.outreach.dispatch import utcnow

    engine, _config, _home = _open()
    now = utcnow()
    register = view_register(
        engine,
        user_name=resolve_user(user),
        now=now,
        today=local_today(now),
        town=town,
        department=department,
        include_closed=closed,
        action="view_referrals",
    )
    frame = register.referrals.sort_values(["due_date", "referral_id"])
    rows = [
        {
            "id": int(r["referral_id"]),
            "alert": int(r["alert_id"]),
            "household_code": r["household_code"],
            "village": str(r["village_name"]),
            "route": str(r["route"]),
            "department": str(r["department"]),
            "status": str(r["status"]),
            "due_date": str(r["due_date"]),
            "overdue": bool(r["overdue"]),
        }
        for r in frame.to_dict("records")
    ]
    lines = [f"[bold]{len(rows)}[/bold] referrals"] + [
        f"  #{r['id']} alert {r['alert']} {r['village']} {r['route']} → {r['department']}: {r['status']}, "
        f"due {r['due_date']}" + (" [red]overdue[/red]" if r["overdue"] else "")
        for r in rows
    ]
    _emit({"referrals": rows}, as_json, lines)


@referrals_app.command("update")
def referrals_update_command(
    referral: Annotated[int, typer.Argument(help="referral id")],
    status: Annotated[str, typer.Option("--status", help="accepted | done | declined")],
    note: Annotated[str | None, typer.Option(help="what the department said")] = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move a referral along (sent → accepted → done; sent or accepted → declined), audited."""
    from outreach.referrals import update_referral
    from pipelines.outreach.dispatch import utcnow

    engine, config, _home = _open()
    done = update_referral(
        engine,
        referral_id=referral,
        user_name=resolve_user(user),
        status=status,
        note=note,
        now=utcnow(),
        field=config.field,
    )
    _emit(
        done.to_dict(),
        as_json,
        [f"referral {done.id} {done.status} (alert {done.alert_id}, task {done.task_status})"],
    )
