"""`lowinc users add|list|disable|reset-password`: accounts of the web page (origin cli).

Whoever can run this command can write the outreach database, so the host account is the
trust boundary here; every change is audited under the acting name ($LOWINC_USER, else the
login name). Passwords come from --password-stdin or a terminal prompt (twice), never from
an option (it would sit in the shell history and the process list).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from lowinc.errors import BadValue

users_app = typer.Typer(no_args_is_help=True, help="Accounts of the web page.")
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of standard input")
]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _actor() -> str:
    from pipelines.outreach.cli import resolve_user

    return f"cli:{resolve_user(None)}"


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise BadValue("--password-stdin: standard input is empty")
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise BadValue("no terminal to ask for the password: pass it on standard input with --password-stdin")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise BadValue("the two passwords differ")
    return first


def _engine() -> Any:
    from outreach.startup import open_outreach_db
    from pipelines.outreach.dispatch import load_outreach

    config, home = load_outreach()
    return open_outreach_db(config, home)


@users_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="user name (the sign-in name)")],
    role: Annotated[
        str,
        typer.Option("--role", help="village_worker, town_officer, county_officer, data_team or model_owner"),
    ],
    area: Annotated[
        list[str] | None,
        typer.Option("--area", help="division code (repeat for a worker of several villages)"),
    ] = None,
    password_stdin: PasswordStdin = False,
    capacity: Annotated[int | None, typer.Option("--capacity", help="home visits a month", min=0)] = None,
) -> None:
    """Add a user who signs in to the web page."""
    from outreach.accounts import add_user, check_areas, check_name, check_password
    from outreach.db import transaction
    from pipelines.outreach.dispatch import utcnow

    check_areas(role, list(area or []))  # refuse a bad role or area before asking for a password
    password = check_password(read_password(password_stdin), check_name(name))
    engine = _engine()
    try:
        with transaction(engine) as session:
            user = add_user(
                session, name, role, list(area or []), password, "cli", utcnow(), capacity, actor=_actor()
            )
            typer.echo(f"added {user.name} ({role}{', ' + ', '.join(area or []) if area else ''})")
    finally:
        engine.dispose()


@users_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False) -> None:
    """Every account: role, areas, origin, whether it is active or locked."""
    from dataclasses import asdict

    from sqlalchemy.orm import Session

    from outreach.accounts import list_users

    engine = _engine()
    try:
        with Session(engine) as session:
            users = list_users(session)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([asdict(u) for u in users], ensure_ascii=False))
        return
    for u in users:
        state = "active" if u.active else "disabled"
        state += ", locked" if u.locked else ""
        state += "" if u.has_password else ", no password"
        typer.echo(f"{u.name}\t{u.role}\t{','.join(u.areas) or '-'}\t{u.origin}\t{state}")


@users_app.command("disable")
def disable_command(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Disable a user (kept for the audit log); their web sessions end at once."""
    from outreach.accounts import disable_user
    from outreach.db import transaction
    from pipelines.outreach.dispatch import utcnow

    engine = _engine()
    try:
        with transaction(engine) as session:
            disable_user(session, name, utcnow(), actor=_actor())
    finally:
        engine.dispose()
    typer.echo(f"disabled {name}")


@users_app.command("reset-password")
def reset_password_command(
    name: Annotated[str, typer.Argument(help="user name")], password_stdin: PasswordStdin = False
) -> None:
    """Give a user a new password; clears a lock-out and ends their sessions."""
    from outreach.accounts import check_password, reset_password
    from outreach.db import transaction
    from pipelines.outreach.dispatch import utcnow

    password = check_password(read_password(password_stdin), name)
    engine = _engine()
    try:
        with transaction(engine) as session:
            reset_password(session, name, password, utcnow(), actor=_actor())
    finally:
        engine.dispose()
    typer.echo(f"new password set for {name}")
