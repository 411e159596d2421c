"""Line streaming: encodings, overlong lines, labels that never carry values."""

from __future__ import annotations

from pathlib import Path

from etanche.exchange import SourceIssue, SourceRecord, detect_encoding, open_source
from etanche.exchange._model import safe_label
from etanche.exchange._text import MAX_LINE


def test_detect_encoding() -> None:
    assert detect_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert detect_encoding("é".encode()) == "utf-8"
    assert detect_encoding("é€".encode("cp1252")) == "cp1252"
    assert detect_encoding(b"\xe9\x81") == "latin-1"


def test_an_overlong_line_is_an_issue_and_the_next_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with path.open("wb") as handle:
        handle.write(b"Nom;Prenom\r\n")
        handle.write(b"A" * (MAX_LINE + 10) + b";B\r\n")
        handle.write(b"Martin;Jean\r\n")
    items = list(open_source("legacy-csv", path))
    assert isinstance(items[0], SourceIssue)
    assert items[0].reason == f"line longer than {MAX_LINE} bytes"
    assert isinstance(items[1], SourceRecord)
    assert items[1].fields == {"birth_name": "Martin", "first_names": "Jean"}


def test_labels_from_files_never_carry_numbers_or_text() -> None:
    assert safe_label("882-1", "?") == "882-1"
    assert safe_label("PID", "?") == "PID"
    assert safe_label("0612345678", "?") == "?"
    assert safe_label("Jean Dupont", "?") == "?"
