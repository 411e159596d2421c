"""Zip archives: members are opened in place, never extracted to disk."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

from etanche.errors import SourceError
from etanche.exchange.found._source import Source

__all__ = ["is_spreadsheet", "members"]

_SPREADSHEET_MARKERS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")


class _Member(io.RawIOBase):
    """One archive member as a seekable stream that closes its archive with it."""

    def __init__(self, outer: BinaryIO, archive: zipfile.ZipFile, name: str) -> None:
        self._outer = outer
        self._archive = archive
        self._inner = archive.open(name)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            self._archive.close()
            self._outer.close()
        super().close()


def _archive(source: Source) -> tuple[BinaryIO, zipfile.ZipFile]:
    handle = source.open()
    try:
        return handle, zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError):
        handle.close()
        raise SourceError(f"{source.name}: unreadable zip archive") from None


def is_spreadsheet(source: Source) -> bool:
    handle, archive = _archive(source)
    with handle, archive:
        names = set(archive.namelist())
    return any(marker in names for marker in _SPREADSHEET_MARKERS)


def _opener(source: Source, name: str) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        outer, archive = _archive(source)
        try:
            return io.BufferedReader(_Member(outer, archive, name), 1 << 20)
        except (KeyError, RuntimeError, zipfile.BadZipFile):
            archive.close()
            outer.close()
            raise SourceError(f"{source.name}: member {name} unreadable") from None

    return open_member


def members(source: Source) -> Iterator[Source]:
    """Every file of the archive (encrypted members refused), in archive order."""
    handle, archive = _archive(source)
    with handle, archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
    for info in infos:
        if info.flag_bits & 0x1:
            raise SourceError(f"{source.name}: member {info.filename} is encrypted")
        yield Source(
            f"{source.name}/{info.filename}", _opener(source, info.filename), info.file_size
        )
