"""`lowinc train` and `lowinc model list|promote|rollback`; wired in by pipelines.cli.

Imports inside the commands are on purpose: pipelines.cli registers every command at start,
so a command's libraries load only when it runs (see pipelines/cli.py).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]

model_app = typer.Typer(no_args_is_help=True, help="The registered risk model: list, promote, roll back.")


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    from rich.console import Console
    from rich.pretty import pprint

    pprint(data, console=Console(), expand_all=True)


def train_command(as_json: JsonFlag = False) -> None:
    """Train on the feature snapshots, evaluate at capacity, log to MLflow, register as challenger."""
    from rich.console import Console

    from pipelines.settings import load_settings
    from pipelines.train.training import train_and_register

    settings = load_settings()
    with Console(stderr=True).status("training", spinner="dots") if not as_json else nullcontext():
        summary = train_and_register(settings)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    out = Console()
    m = summary["metrics"]
    out.print(
        f"[bold]{summary['model']} v{summary['version']}[/bold] "
        f"({'champion' if summary['promoted'] else 'challenger'}): {summary['decision']}"
    )
    out.print(f"windows: {summary['splits']}")
    out.print(
        f"precision@{summary['visit_capacity']}: model {m['precision_at_k']:.3f}, best rule "
        f"{m['best_rule_precision_at_k']:.3f}, logistic {m['baseline.logistic.precision_at_k']:.3f}, "
        f"income ratio {m['baseline.income_ratio.precision_at_k']:.3f}"
    )
    if "oracle_share_at_k" in m:
        out.print(f"share of the oracle's precision@k: {m['oracle_share_at_k']:.2f}")
    variants = ", ".join(
        f"{n} {m[f'{n}.precision_at_k']:.3f}"
        for n in ("observable", "with_visits")
        if f"{n}.precision_at_k" in m
    )
    same = " (identical: trained once)" if summary.get("label_variants_identical") else ""
    out.print(f"label variant: {summary.get('label_variant')}{same}; precision@k {variants}")
    out.print(f"MLflow: {summary['tracking_uri']} run {summary['run_id']}")


@model_app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """Registered versions with their aliases, test window and precision at capacity."""
    from models.registry import list_versions
    from pipelines.settings import load_settings

    settings = load_settings()
    rows = list_versions(settings.model, settings.home)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("version", "aliases", "created", "test window", "precision@k", "promotion")
    for r in rows:
        table.add_row(
            r["version"],
            ",".join(r["aliases"]),
            r["created"],
            r["test_window"] or "",
            r["precision_at_k"] or "",
            r["promotion"] or "",
        )
    Console().print(table)


@model_app.command("promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="registry version")], as_json: JsonFlag = False
) -> None:
    """Make a version the champion by hand."""
    from models.registry import promote
    from pipelines.settings import load_settings

    settings = load_settings()
    _print(promote(settings.model, settings.home, version), as_json)


@model_app.command("rollback")
def rollback_command(as_json: JsonFlag = False) -> None:
    """Give the champion alias back to the previous champion."""
    from models.registry import rollback
    from pipelines.settings import load_settings

    settings = load_settings()
    _print(rollback(settings.model, settings.home), as_json)  # NotFound without an earlier champion


def register(app: typer.Typer) -> None:
    """Add ``train`` and the ``model`` sub-app to the main CLI."""
    app.command("train")(train_command)
    app.add_typer(model_app, name="model")
