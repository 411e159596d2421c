"""Archives: zip members and gzip / bzip2 / xz streams are read in place, never extracted."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable, Iterator
from typing import BinaryIO, cast

from etanche.errors import SourceError
from etanche.exchange.found._source import Source

__all__ = ["COMPRESSED", "compressed_member", "is_spreadsheet", "members"]


def _gzip(raw: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))


def _bz2(raw: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, bz2.BZ2File(raw, "rb"))


def _xz(raw: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, lzma.LZMAFile(raw, "rb"))


# Magic bytes of single-stream compressors -> the stdlib opener of their stream.
COMPRESSED: dict[bytes, Callable[[BinaryIO], BinaryIO]] = {
    b"\x1f\x8b": _gzip,
    b"BZh": _bz2,
    b"\xfd7zXZ\x00": _xz,
}
_SUFFIXES = (".gz", ".tgz", ".bz2", ".xz")

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


def is_spreadsheet(source: Source, markers: tuple[str, ...] = _SPREADSHEET_MARKERS) -> bool:
    """Whether the zip archive holds one of ``markers`` (a workbook's parts)."""
    handle, archive = _archive(source)
    with handle, archive:
        names = set(archive.namelist())
    return any(marker in names for marker in markers)


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


class _Decompressed(io.RawIOBase):
    """A decompressed stream that closes the compressed file under it with it."""

    def __init__(self, outer: BinaryIO, inner: BinaryIO, name: str) -> None:
        self._outer, self._inner, self._name = outer, inner, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (OSError, EOFError, lzma.LZMAError):
            raise SourceError(f"{self._name}: corrupt or truncated compressed stream") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            self._outer.close()
        super().close()


def compressed_member(source: Source, magic: bytes) -> Source:
    """The one file a gzip, bzip2 or xz stream holds, decompressed as it is read."""
    opener = COMPRESSED[magic]
    stem = source.name.rsplit("/", 1)[-1]
    for suffix in _SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)] or stem
            break

    def open_stream() -> BinaryIO:
        outer = source.open()
        try:
            inner = opener(outer)
        except (OSError, EOFError, lzma.LZMAError):
            outer.close()
            raise SourceError(f"{source.name}: unreadable compressed stream") from None
        return io.BufferedReader(_Decompressed(outer, inner, source.name), 1 << 20)

    return Source(f"{source.name}/{stem}", open_stream, 0)
