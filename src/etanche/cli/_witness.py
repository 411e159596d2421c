"""``etanche witness``: run a witness of someone else's audit log, in a folder of its own.

A witness is run by someone other than the operator (the DPO, another lab, the
head office), as its own process, with its own key; it never opens a vault.
``init`` makes its folder and prints its verifier key, to pin in witness lists;
``serve`` answers tlog-witness ``add-checkpoint`` requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.errors import SourceError

witness_app = typer.Typer(
    help="A witness: cosigns the audit log's checkpoints after checking consistency.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")

Folder = Annotated[Path, typer.Option("--folder", help="The witness's own folder.")]


@witness_app.command("init")
def init(
    folder: Folder,
    name: Annotated[str, typer.Option(help="Its key name, e.g. dpo.example.fr/witness.")],
    log_key: Annotated[
        list[Path],
        typer.Option("--log-key", help="Verifier key file of a log to watch (`audit export-key`)."),
    ],
) -> None:
    """Create the witness's key and folder; print its verifier key (pin it in witness lists)."""
    from etanche.witness import init_witness

    keys = []
    for path in log_key:
        try:
            keys.append(path.read_text(encoding="ascii").strip())
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{path.name}: cannot read ({type(exc).__name__})") from None
    vkey = init_witness(folder.resolve(), name, keys)
    ctx.say(f"Witness {name} created in {folder}; its verifier key:")
    typer.echo(vkey)


@witness_app.command("serve")
def serve(
    folder: Folder,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8100,
) -> None:
    """Answer POST /add-checkpoint (tlog-witness) until interrupted."""
    from etanche.witness import make_server, open_witness

    witness = open_witness(folder.resolve())
    server = make_server(witness, host, port)
    ctx.say(
        f"Witness {witness.folder.name} listening on http://{host}:{server.server_address[1]}/ "
        f"(folder {folder})",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
