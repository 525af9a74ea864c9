"""`lowinc web`: the social workers' page over the configured outreach database and home.

The only place that starts the web server (uvicorn); outreach.web builds the app.
"""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("web")(web_command)


def web_command(
    host: Annotated[
        str | None, typer.Option("--host", help="address to listen on (default: outreach.web.host)")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="port (default: outreach.web.port)", min=1, max=65535)
    ] = None,
) -> None:
    """Serve the web page (sign-in, visit lists, households, outcomes, dashboard)."""
    import uvicorn

    from lowinc.home import HomeLayout
    from outreach.startup import open_outreach_db
    from outreach.web.app import create_app
    from outreach.web.context import WebContext
    from pipelines.outreach.dispatch import load_outreach

    config, home = load_outreach()
    web = config.web.model_copy(update={"host": host or config.web.host, "port": port or config.web.port})
    config = config.model_copy(update={"web": web})
    engine = open_outreach_db(config, home)
    app = create_app(WebContext(engine=engine, layout=HomeLayout(home), outreach=config))
    typer.echo(f"lowinc web: http://{web.host}:{web.port}/login (stop with Ctrl-C)", err=True)
    try:
        # no access log: its lines carry the query strings of every request
        uvicorn.run(
            app,
            host=web.host,
            port=web.port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
        )
    finally:
        engine.dispose()
