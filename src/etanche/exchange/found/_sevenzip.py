"""7z archives through py7zr: each member decompressed in a thread, never to disk.

py7zr pushes a member's bytes to a writer; a thread runs the extraction and
hands the chunks over a small queue to the reading side, and nothing is
extracted to a file (a found file is personal data). py7zr 1.x writes a member
in one piece, so a member is held in memory while it is read (the queue bounds
what we add, not what py7zr holds).
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

import py7zr
import py7zr.io

from etanche.errors import SourceError
from etanche.exchange.found._source import Source

__all__ = ["MAGIC", "seven_zip_members"]

MAGIC = b"7z\xbc\xaf\x27\x1c"
_CHUNKS = 8  # chunks in flight between the extracting thread and the reader
_END = b""


class _Stopped(Exception):
    """The reader closed early: the extracting thread stops writing."""


class _Pipe(py7zr.io.Py7zIO):
    """py7zr's writer for the member we read: every chunk goes to the queue."""

    def __init__(self, chunks: queue.Queue[bytes | Exception], stop: threading.Event) -> None:
        self._chunks, self._stop, self._size = chunks, stop, 0

    def write(self, s: bytes | bytearray) -> int:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                self._chunks.put(bytes(s), timeout=0.1)
            except queue.Full:
                continue
            self._size += len(s)
            return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._size


class _Factory(py7zr.io.WriterFactory):
    def __init__(self, target: str, pipe: _Pipe) -> None:
        self._target, self._pipe = target, pipe

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        return self._pipe if filename == self._target else py7zr.io.NullIO()  # type: ignore[no-untyped-call]


class _MemberStream(io.RawIOBase):
    """The reading side: chunks from the extracting thread, until the end marker."""

    def __init__(self, source: Source, name: str) -> None:
        self._name = f"{source.name}/{name}"
        self._chunks: queue.Queue[bytes | Exception] = queue.Queue(_CHUNKS)
        self._stop = threading.Event()
        self._pending = b""
        self._done = False
        pipe = _Pipe(self._chunks, self._stop)
        self._thread = threading.Thread(
            target=self._extract, args=(source, name, pipe), daemon=True
        )
        self._thread.start()

    def _extract(self, source: Source, name: str, pipe: _Pipe) -> None:
        try:
            with source.open() as handle, py7zr.SevenZipFile(handle, "r") as archive:
                archive.extract(targets=[name], factory=_Factory(name, pipe))
            self._put(_END)
        except _Stopped:
            return
        except Exception:  # py7zr raises many kinds on a damaged archive
            self._put(SourceError(f"{self._name}: corrupt or unreadable 7z member"))

    def _put(self, item: bytes | Exception) -> None:
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            item = self._chunks.get()
            if isinstance(item, Exception):
                self._done = True
                raise item
            if item == _END:
                self._done = True
            self._pending = item
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._stop.set()
            while self._thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    self._chunks.get(timeout=0.1)
            self._thread.join()
        super().close()


def _opener(source: Source, name: str) -> Callable[[], BinaryIO]:
    return lambda: io.BufferedReader(_MemberStream(source, name), 1 << 20)


def seven_zip_members(source: Source) -> Iterator[Source]:
    """Every file of a 7z archive (encrypted archives refused), in archive order."""
    try:
        with source.open() as handle, py7zr.SevenZipFile(handle, "r") as archive:
            if archive.needs_password():
                raise SourceError(f"{source.name}: encrypted 7z archive")
            infos = [i for i in archive.list() if not i.is_directory]
    except SourceError:
        raise
    except Exception:  # py7zr raises many kinds on a damaged archive
        raise SourceError(f"{source.name}: unreadable 7z archive") from None
    for info in infos:
        yield Source(
            f"{source.name}/{info.filename}",
            _opener(source, info.filename),
            int(info.uncompressed or 0),
        )
