"""Shared CLI plumbing: settings, the console, and the client of the service.

Person commands are clients: they reach the running service (``etanche serve``)
with the person's session or API token and print what it answers. Nothing here
opens the database or touches a key.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from etanche import settings
from etanche.client import ServiceClient, connect, read_session
from etanche.errors import AccessError, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class _LazyConsole:
    """A Rich console built on first use: a plain command's answer never loads Rich."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


console: Any = _LazyConsole()
err_console: Any = _LazyConsole(stderr=True)


def config() -> settings.Settings:
    return settings.current()


def service(*, anonymous: bool = False) -> ServiceClient:
    """The client of the service, acting as the logged-in person (token or session)."""
    current = config()
    if anonymous:
        return connect(current.service)
    token = current.token or read_session(current.session_path)
    if token is None:
        raise AccessError("login: no session (run `etanche login`)")
    return connect(current.service, token)


def say(text: str) -> None:
    """One plain line on stdout (no markup: values may hold brackets)."""
    typer.echo(text)


def ask(value: str | None, label: str, env: str, *, hide: bool = False) -> str:
    """A value from the environment, else a prompt on a terminal; never echoed when hidden."""
    if value:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"{label.lower()}: set {env} or run in a terminal to be prompted")
    return str(typer.prompt(label, hide_input=hide))


def new_password(value: str | None, env: str) -> str:
    """A new account password: from the environment, else a hidden prompt asked twice."""
    if value:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"password: set {env} or run in a terminal to be prompted")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A Rich progress bar on stderr, so --json output on stdout stays clean."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console.real(),
        transient=False,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar


def advance(bar: Progress, amount: int) -> None:
    bar.advance(bar.task_ids[0], amount)


def follow(
    lines: Iterator[Mapping[str, Any]], description: str, total: int | None = None
) -> dict[str, Any]:
    """Show a streamed operation's progress; return its result."""
    result: dict[str, Any] = {}
    with progress_bar(description, total) as bar:
        reporter = totals(bar)
        for line in lines:
            if "done" in line:
                reporter(int(line["done"]))
            elif "total" in line:
                bar.update(bar.task_ids[0], total=int(line["total"]))
            elif "result" in line:
                result = dict(line["result"])
    return result


def totals(bar: Progress) -> Callable[[int], None]:
    """A progress callback taking running totals (the service reports totals)."""
    last = [0]

    def report(done: int) -> None:
        advance(bar, done - last[0])
        last[0] = done

    return report


def echo_json(doc: Any) -> None:
    import json

    typer.echo(json.dumps(doc, ensure_ascii=False))
