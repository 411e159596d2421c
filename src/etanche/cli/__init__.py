"""Command-line entry point: one clear error line and a documented exit code."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from etanche import settings
from etanche.errors import EtancheError, exit_code_for

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run ``etanche``; errors become one line on stderr, never a traceback."""
    from etanche.cli._app import app
    from etanche.cli._context import err_console

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="etanche", standalone_mode=False)
    except typer.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}", markup=False)
        sys.exit(exc.exit_code)
    except EtancheError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so without printing data that may be personal
        if settings.current().debug:
            raise
        err_console.print(
            f"internal error ({type(exc).__name__}); set ETANCHE_DEBUG=1 for details", markup=False
        )
        sys.exit(1)
