"""Witnesses: copies of signed heads kept outside the database.

A head in the database can be deleted along with the events it covers; a head a
witness holds cannot. Verifying ``--against`` a witness's head turns truncation
and rewriting into errors. Publishing is best effort: a failing witness is
reported by the log and never loses the head, which is already committed.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from etanche._files import open_private
from etanche.audit._heads import SignedTreeHead
from etanche.errors import UsageError


@runtime_checkable
class Witness(Protocol):
    """Anything that keeps a copy of each head; ``name`` appears in failure reports."""

    @property
    def name(self) -> str: ...

    def publish(self, head: SignedTreeHead) -> None: ...


class FileWitness:
    """Appends each head as one JSON line, flushed to disk (fsync) before returning."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return f"file {self.path.name}"

    def publish(self, head: SignedTreeHead) -> None:
        with open_private(self.path, "a") as handle:
            handle.write(head.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())


class WebhookWitness:
    """POSTs each head as JSON to an HTTP(S) URL; any non-2xx answer is a failure."""

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, headers: Mapping[str, str] | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError("webhook witness: expected an http:// or https:// URL")
        self.url = url
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self._host = parts.hostname

    @property
    def name(self) -> str:
        return f"webhook {self._host}"  # no path or query: they may carry a token

    def publish(self, head: SignedTreeHead) -> None:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.url,
            data=head.to_json().encode("utf-8"),
            headers={"Content-Type": "application/json", **self.headers},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            status = int(response.status)
        if not 200 <= status < 300:
            raise OSError(f"webhook answered HTTP {status}")
