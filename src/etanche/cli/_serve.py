"""``etanche serve``: the web application and FHIR API on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import Keyfile, Vault_, app


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    rules: Annotated[
        Path | None, typer.Option("--rules", envvar="ETANCHE_RULES", help="Alert rules (YAML).")
    ] = None,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    keyfile_tls: Annotated[Path | None, typer.Option("--tls-key", help="TLS private key.")] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Serve the lab's web application and the FHIR API (every route needs a person)."""
    run_server(
        ctx.location(vault, keyfile), ctx.passphrase(), host, port, rules, certfile, keyfile_tls
    )


def run_server(
    location: object,
    passphrase: str,
    host: str,
    port: int,
    rules: Path | None = None,
    certfile: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    import uvicorn

    from etanche.vault import VaultLocation
    from etanche.web import WebConfig, create_app

    assert isinstance(location, VaultLocation)
    config = WebConfig(
        location,
        passphrase,
        rules,
        secure_cookies=certfile is not None,
        trail_mode=os.environ.get("ETANCHE_TRAIL_MODE", "buffered"),
    )
    ctx.console.print(f"Étanche on http{'s' if certfile else ''}://{host}:{port}/ (Ctrl+C stops)")
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # URLs may hold search terms: never log them
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
