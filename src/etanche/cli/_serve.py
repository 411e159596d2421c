"""``etanche serve``: the web application and FHIR API on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import Keyfile, Vault_, app
from etanche.errors import UsageError
from etanche.vault import VaultLocation


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=0, max=32, help="Worker processes (0: one per core, up to 4).")
    ] = 0,
    rules: Annotated[
        Path | None, typer.Option("--rules", envvar="ETANCHE_RULES", help="Alert rules (YAML).")
    ] = None,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    keyfile_tls: Annotated[Path | None, typer.Option("--tls-key", help="TLS private key.")] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Serve the lab's web application and the FHIR API (every route needs a person)."""
    where = ctx.location(vault, keyfile)
    run_server(where, ctx.passphrase(), host, port, rules, certfile, keyfile_tls, workers=workers)


def run_server(
    location: VaultLocation,
    passphrase: str,
    host: str,
    port: int,
    rules: Path | None = None,
    certfile: Path | None = None,
    tls_key: Path | None = None,
    *,
    workers: int = 0,
) -> None:
    """Several worker processes share the CPU: each opens the key file itself."""
    import uvicorn

    from etanche.vault import Vault

    if (certfile is None) != (tls_key is None):
        raise UsageError("--certfile/--tls-key: give both or neither")
    Vault.open(location, passphrase, compartments=()).close()  # fail here, not in a worker
    count = workers or max(1, min(4, os.cpu_count() or 1))
    # The workers read their configuration from the environment (uvicorn factory).
    os.environ["ETANCHE_VAULT"] = (
        location.url if location.directory is None else str(location.directory)
    )
    os.environ["ETANCHE_KEYFILE"] = str(location.keyfile)
    os.environ["ETANCHE_PASSPHRASE"] = passphrase
    os.environ.setdefault("ETANCHE_TRAIL_MODE", "buffered")
    if rules is not None:
        os.environ["ETANCHE_RULES"] = str(rules)
    if certfile is not None:
        os.environ["ETANCHE_SECURE_COOKIES"] = "1"
    scheme = "https" if certfile else "http"
    ctx.console.print(f"Étanche on {scheme}://{host}:{port}/ with {count} worker(s) (Ctrl+C stops)")
    uvicorn.run(
        "etanche.web._app:app_from_environment",
        factory=True,
        workers=count,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # URLs may hold search terms: never log them
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
