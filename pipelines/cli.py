"""`lowinc`: the one command-line entry point.

The imports inside commands are on purpose: every ``lowinc`` run imports this module, so a
command's heavy libraries (pandas, Prefect, MLflow, the outreach database) load only when
that command runs, and Prefect's only after :func:`~lowinc.runtime.prepare_environment` has
pointed it at the home.

Every command that does work prints a readable summary on stdout, or with ``--json`` one
JSON document on stdout; logs and progress bars go to stderr so scripts can pipe the JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Annotated, Any

import httpx
import pydantic
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer._click.exceptions import ClickException  # typer vendors click: its own exception classes

from lowinc.errors import UserError
from lowinc.home import HomeLayout
from lowinc.months import check_month
from lowinc.private import private_process, secure_home
from lowinc.runtime import prepare_environment
from lowinc.settings import config_error
from pipelines.features.cli import register as register_features
from pipelines.ingest.cli import register as register_ingest
from pipelines.monitor.cli import register as register_monitor
from pipelines.outreach.cli import register as register_outreach
from pipelines.outreach.users_cli import register as register_users
from pipelines.outreach.web_cli import register as register_web
from pipelines.score.cli import register as register_score
from pipelines.score.entitlements_cli import register as register_entitlements
from pipelines.settings import Settings, load_settings, provenance, shown_settings
from pipelines.train.cli import register as register_train

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="lowinc: low-income population dynamic monitoring and early warning.",
)
register_ingest(app)
register_features(app)
register_train(app)
register_outreach(app)
register_score(app)
register_entitlements(app)
register_users(app)
register_web(app)
register_monitor(app)
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]


def _settings_with(**simulation: Any) -> Settings:
    """Configured settings with command-line simulation options layered on top."""
    base = load_settings()
    given = {k: v for k, v in simulation.items() if v is not None}
    return load_settings(simulation=base.simulation.model_dump() | given)


def run_simulation(settings: Settings, quiet: bool) -> dict[str, Any]:
    # imported here, not at the top: the simulator is the simulate command's alone, and every
    # other command (this module is the entry point of all) starts without it
    from simulator.simulation import simulate

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]simulate[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} months"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("", total=None)

        def tick(month: str, done: int, total: int) -> None:
            progress.update(task, description=month, completed=done, total=total)

        summary = simulate(settings, progress=tick)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def print_simulation(summary: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    out.print(
        f"[bold]Simulated {summary['region']}[/bold]: {summary['households_start']:,} households, "
        f"{summary['villages']:,} villages/communities, "
        f"months {summary['months'][0]}..{summary['months'][1]}, "
        f"seed {summary['seed']} ({summary['seconds']} s)"
    )
    table = Table("base rate", "value", "expected (shared/domain.md)", "in range")
    for key, value in summary["rates"].items():
        lo_hi = summary["expected"].get(key)
        ok = summary["rates_in_range"].get(key)
        table.add_row(
            key,
            f"{value:.4f}",
            f"{lo_hi[0]:.3f}–{lo_hi[1]:.3f}" if lo_hi else "",
            "" if ok is None else ("yes" if ok else "[red]no[/red]"),
        )
    out.print(table)
    out.print(
        f"Department extracts: {summary['raw_dir']} ({summary['files_written']} files, "
        f"{summary['defects_injected']:,} injected defects listed in truth/defects_manifest.csv)"
    )
    out.print(f"Ground truth (evaluation only): {summary['truth_dir']}")


@app.command()
def simulate(
    city: Annotated[str | None, typer.Option(help="city name, e.g. 湖州市")] = None,
    county: Annotated[str | None, typer.Option(help="a county name or 6-digit code")] = None,
    province: Annotated[bool, typer.Option("--province", help="the whole of Zhejiang")] = False,
    households: Annotated[int | None, typer.Option(help="households at the start")] = None,
    start: Annotated[str | None, typer.Option(help="first delivered month, YYYY-MM")] = None,
    months: Annotated[int | None, typer.Option(help="months delivered")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (same seed, same bytes)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a region and write department extracts to <home>/raw, truth to <home>/truth."""
    settings = _settings_with(
        city=city,
        county=county,
        province=province or None,
        households=households,
        start=start,
        months=months,
        seed=seed,
    )
    summary = run_simulation(settings, quiet=as_json)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        print_simulation(summary)


def export_files(result: dict[str, Any]) -> list[str]:
    """The township workbooks the loop's delivery step exported (none when nothing was queued)."""
    return list((result.get("exports") or {}).get("files", []))


def print_loop(result: dict[str, Any], home: HomeLayout, exports: list[str]) -> None:
    out = Console(soft_wrap=True)
    ing = result["ingest"]
    if ing["months"]:
        out.print(
            f"[bold]Ingested[/bold] {ing['months']} months: {ing['rows_in']:,} rows in, "
            f"{ing['accepted']:,} accepted, {ing['quarantined']:,} quarantined, "
            f"{ing['duplicates']:,} duplicates, {ing['unlinked']:,} rows of people outside the hukou; "
            f"{ing['rejected_files']} files rejected, {ing['missing_files']} missing"
        )
    feats = result["features"]
    out.print(
        f"[bold]Features[/bold]: {feats['snapshots_built']} monthly snapshots built, "
        f"{feats.get('snapshots_relabelled', 0)} brought up to date as their labels matured"
    )
    if train := result.get("train"):
        m = train["metrics"]
        out.print(
            f"[bold]Model[/bold] {train['model']} v{train['version']} "
            f"({'champion' if train['promoted'] else 'challenger'}), test window "
            f"{train['splits'].get('split.test')}: precision at {train['visit_capacity']} visits "
            f"{m.get('precision_at_k', float('nan')):.3f} vs best rule "
            f"{m.get('best_rule_precision_at_k', float('nan')):.3f}, logistic regression "
            f"{m.get('baseline.logistic.precision_at_k', float('nan')):.3f}; ROC-AUC "
            f"{m.get('roc_auc', float('nan')):.3f}"
        )
    if score := result.get("score"):
        tiers = ", ".join(f"{t} {n:,}" for t, n in score["tiers"].items())
        out.print(
            f"[bold]Scored[/bold] {score['households_scored']:,} households at {score['as_of']}: {tiers}; "
            f"{score['listed']:,} on visit lists"
        )
    if checks := result.get("recipients"):
        listed = checks.get("listed", {})
        out.print(
            f"[bold]Recipients to re-verify[/bold]: {listed.get('reverify', 0):,} for a check (核查), "
            f"{listed.get('phase_out', 0):,} in phase-out at risk (渐退), "
            f"of {checks['recipients']:,} recipient households"
        )
    if unlinked := result.get("unlinked"):
        out.print(
            f"[bold]Without local hukou[/bold]: {unlinked['listed']:,} listed of "
            f"{unlinked['people']:,} people "
            f"({unlinked['placed']:,} placed in a village, {sum(unlinked['unplaced'].values()):,} not placed)"
        )
    if ent := result.get("entitlements"):
        gaps = ", ".join(
            f"{p} {c.get('eligible_not_receiving', 0):,}"
            for p, c in ent.get("programmes", {}).items()
            if c.get("eligible_not_receiving")
        )
        out.print(
            f"[bold]Entitlement check[/bold] (应救尽救, likely eligible and not receiving): "
            f"{gaps or 'none'}; "
            f"{ent.get('townships_with_gaps', 0)} townships"
        )
    if queued := result.get("queue"):
        delivered = result.get("deliver", {})
        out.print(
            f"[bold]Alerts[/bold]: {queued.get('alerts', 0):,} queued, {delivered.get('sent', 0):,} messages "
            f"delivered to the local inbox {home.inbox}"
        )
    if monitored := result.get("monitor"):
        out.print(
            f"[bold]Monitoring[/bold] {monitored['as_of']}: {monitored['status']} "
            f"(MLflow experiment lowinc-monitoring; report {home.monitoring_reports})"
        )
    out.print("\nWhere to look:")
    out.print(f"  visit lists (Excel, one per township): {home.exports} ({len(exports)} files)")
    for path in exports[:3]:
        out.print(f"    {path}")
    if len(exports) > 3:
        out.print(f"    … and {len(exports) - 3} more")
    if unlinked:
        out.print(f"  list of people without local hukou: {unlinked['output']}")
    out.print(f"  ingest reports: {home.ingest_reports}")
    out.print(f"  Prefect UI: PREFECT_HOME={home.prefect} .venv/bin/prefect server start --host 127.0.0.1")
    out.print(
        f"  MLflow UI:  .venv/bin/mlflow ui --host 127.0.0.1 --backend-store-uri sqlite:///{home.mlflow_db}"
    )


def print_logins(staff: dict[str, Any]) -> None:
    """How to sign in to the web page as one of the demo's staff (the passwords stay in the file)."""
    out = Console(soft_wrap=True)
    roles = ", ".join(f"{n} {role}" for role, n in staff["by_role"].items())
    out.print(f"\n[bold]Staff[/bold] for {staff['villages']:,} villages/communities: {roles}")
    out.print(f"Sign in: run `lowinc web`, open {staff['login_url']}, e.g.")
    for example in staff["examples"]:
        out.print(f"  user {example['username']} ({example['role_zh']} {example['area']})")
    out.print(f"  passwords (and every user): {staff['logins_file']} (owner-only)")


@app.command()
def up(as_json: JsonFlag = False) -> None:
    """The main job on the embedded default: simulate the configured region, create its staff
    (a worker per village or few villages, town and county officers, a data team user, a model
    owner; passwords in <home>/secure/demo-logins.csv), then run the monthly loop (a Prefect
    flow): ingest, features, train, score, queue alerts, export the townships' lists, and
    deliver to a local inbox."""
    from outreach.inbox import LocalInbox
    from pipelines.outreach.staff import create_demo_staff

    settings = load_settings()
    prepare_environment(settings.layout)
    summary = run_simulation(settings, quiet=as_json)
    if not as_json:
        print_simulation(summary)
        err.print("Running the monthly loop (Prefect flow lowinc-monthly) ...")
    from pipelines.loop import monthly_flow

    started = time.perf_counter()
    with LocalInbox(settings.layout.inbox) as inbox:
        # the demo's staff, before the loop: their webhooks are the local inbox
        staff = create_demo_staff(settings, inbox.url)
        result = monthly_flow(all_months=True)
    result["staff"] = staff
    result["seconds"] = round(time.perf_counter() - started, 1)
    if as_json:
        typer.echo(json.dumps({"simulate": summary} | result, ensure_ascii=False, default=str))
        return
    print_loop(result, settings.layout, export_files(result))
    print_logins(staff)


@app.command()
def monthly(
    month: Annotated[str | None, typer.Option(help="ingest this delivery month only (YYYY-MM)")] = None,
    retrain: Annotated[bool, typer.Option("--retrain", help="train a challenger too")] = False,
    as_json: JsonFlag = False,
) -> None:
    """One pass of the monthly loop (the Prefect flow lowinc-monthly) on what is under raw/:
    ingest new deliveries, build snapshots, train if asked (or no champion yet), score,
    queue and deliver alerts."""
    if month is not None:  # checked before the Prefect server starts or anything is written
        check_month(month, hint="lowinc monthly --month YYYY-MM, e.g. --month 2023-03")
    settings = load_settings()
    prepare_environment(settings.layout)
    from pipelines.loop import monthly_flow

    result = monthly_flow(month=month, retrain=retrain)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    print_loop(result, settings.layout, export_files(result))


@app.command()
def deploy(as_json: JsonFlag = False) -> None:
    """Register the flows' deployments (schedules in configs/deployments.yaml) with the Prefect
    server of PREFECT_API_URL; run them with `prefect worker start --pool lowinc`."""
    from prefect.settings import get_current_settings

    from pipelines.deploy import deploy_all

    settings = load_settings()
    start = "prefect server start --host 127.0.0.1 --port 4200, then export PREFECT_API_URL=http://127.0.0.1:4200/api"
    if not (url := get_current_settings().api.url):  # without one Prefect would start a throwaway server
        raise UserError(
            "PREFECT_API_URL is not set: deployments live in a running Prefect server", hint=start
        )
    try:
        names = deploy_all(settings)
    except httpx.ConnectError:
        raise UserError(f"no Prefect server answers at {url}", hint=start) from None
    if as_json:
        typer.echo(json.dumps({"deployments": names, "work_pool": settings.deployments.work_pool}))
        return
    for name in names:
        Console().print(f"deployed {name}")
    Console().print(f"Start a worker: .venv/bin/prefect worker start --pool {settings.deployments.work_pool}")


@app.command()
def config(as_json: JsonFlag = False) -> None:
    """Show the effective configuration (configs/*.yaml plus LOWINC_* environment overrides),
    secrets masked, and which folder and file each part came from."""
    settings = load_settings()
    data = {"from": provenance(settings), "settings": shown_settings(settings)}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    origin = data["from"]
    lines = [
        f"configuration folder: {origin['config_dir']} (from {origin['config_dir_from']})",
        *[f"  {path}: {', '.join(sections)}" for path, sections in origin["yaml_files"].items()],
        f"department source definitions: {origin['sources_dir']} ({len(origin['source_files'])} files)",
        "environment overrides: " + (", ".join(origin["environment_overrides"]) or "none"),
    ]
    typer.echo("\n".join(lines))
    typer.echo(json.dumps(data["settings"], ensure_ascii=False, indent=2))


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="show the full traceback of an error (also LOWINC_DEBUG=1)")
    ] = False,
) -> None:
    """lowinc: low-income population dynamic monitoring and early warning."""
    if debug:
        os.environ["LOWINC_DEBUG"] = "1"
    secure_home(load_settings().home)  # a home made under a looser umask: personal data owner-only


def main(argv: list[str] | None = None) -> None:
    """The ``lowinc`` entry point: a user's error ends in one line and exit code 2; any other
    error in one line naming its kind; the traceback only with ``--debug``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("LOWINC_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line
    if debug:
        os.environ["LOWINC_DEBUG"] = "1"
    private_process()  # whatever this run writes under the home is its owner's only
    try:
        # not standalone: click's own usage errors come here too, to be printed as one line
        code = app(args, prog_name="lowinc", standalone_mode=False)
    except SystemExit:
        raise
    except ClickException as error:  # a bad option or argument: what is wrong, what to run
        if debug:
            raise
        if message := error.format_message():  # empty: a group's help was already printed
            _print_error(UserError(message, hint=f"{_command_line(error)} --help").line())
        raise SystemExit(error.exit_code) from None
    except typer.Abort:
        err.print("interrupted")
        raise SystemExit(130) from None
    except UserError as error:
        if debug:
            raise
        _print_error(error.line())
        raise SystemExit(error.exit_code) from None
    except pydantic.ValidationError as error:  # a configuration value (YAML or LOWINC_*) is wrong
        if debug:
            raise
        if (user_error := config_error(error)) is None:
            _print_internal(error)
            raise SystemExit(1) from None
        _print_error(user_error.line())
        raise SystemExit(user_error.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    except Exception as error:
        if debug:
            raise
        _print_internal(error)
        raise SystemExit(1) from None
    if isinstance(code, int) and code:  # typer.Exit(n) returns n when not standalone
        raise SystemExit(code)


def _print_error(line: str) -> None:
    err.print(f"[red]error:[/red] {line}", markup=True, highlight=False, soft_wrap=True)


def _print_internal(error: BaseException) -> None:
    """Not the user's doing: its kind only (its message may quote data), and how to see more."""
    _print_error(
        f"{type(error).__name__} (an internal error; run the same command with --debug for the traceback)"
    )


def _command_line(error: ClickException) -> str:
    """``lowinc <command> <sub-command>`` of the command an option error belongs to."""
    ctx = getattr(error, "ctx", None)
    return ctx.command_path if ctx is not None and ctx.command_path else "lowinc"


if __name__ == "__main__":
    main()
