"""SQL dumps are read in time linear in their size, whatever a leaker put in them.

A backtracking statement regex once took hours on one 30-character unquoted run
cut at a block boundary; these dumps put such runs (10,000 characters) across
every block boundary. Times are compared with each other, never with a fixed
budget beyond a generous one: the suite runs on two busy cores. The size tests
read with 64 KiB blocks instead of 1 MiB: the same number of blocks, boundaries
and runs per dump at a sixteenth of the bytes (the reader's work per boundary
does not depend on the block size; only the leftover carried over would, and a
smaller block makes it weigh more, not less).
"""

from __future__ import annotations

import gc
import threading
import time
import zipfile
from pathlib import Path

import pytest

from etanche.exchange.found import FoundTable, _sql, read_tables
from etanche.exchange.found._sql import _BLOCK

RUN = 10_000  # characters of the unquoted run without any separator
SMALL_BLOCK = 1 << 16  # the block the size tests read with (still 6 runs long)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> int:
    """The SQL reader reads 64 KiB at a time for this test."""
    monkeypatch.setattr(_sql, "_BLOCK", SMALL_BLOCK)
    return SMALL_BLOCK


def _cells(table: FoundTable) -> list[list[str]]:
    return [row for batch in table.batches(1_000) for row in batch]


def _read(path: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {t.name.rsplit(":", 1)[1]: (t.columns, _cells(t)) for t in read_tables(path)}


def _rows(first: int, count: int) -> bytes:
    values = ",".join(
        f"({i},'Nom {i}','l''{i}\\'s',NULL,-{i}.5)" for i in range(first, first + count)
    )
    return f"INSERT INTO `t` VALUES {values};\n".encode()


def _dump(size: int, block: int) -> bytes:
    """A mysqldump-like dump of about ``size`` bytes, an unquoted run across every ``block``."""
    parts = [
        b"-- MySQL dump\nCREATE TABLE `t` (`id` int, `nom` text, `note` text, `x` int, `y` int);\n"
    ]
    length, boundary, row = len(parts[0]), block, 0
    while length < size:
        statement = _rows(row, 50)
        row += 50
        if length + len(statement) > boundary - RUN:
            head = f"INSERT INTO `t` VALUES ({row}, ".encode()
            gap = boundary - RUN // 2 - length - len(head)
            statement = b"\n" * gap + head + b"a" * RUN + b", 'fin', NULL, 0);\n"
            row += 1
            boundary += block
        parts.append(statement)
        length += len(statement)
    return b"".join(parts)


def _timed_read(path: Path) -> float:
    gc.collect()
    began = time.perf_counter()
    _read(path)
    return time.perf_counter() - began


def test_unquoted_run_across_the_block_boundary_is_read_in_bounded_time(tmp_path: Path) -> None:
    head = b"INSERT INTO patients (id, nom) VALUES (1, '"
    filler = b"x" * (_BLOCK - RUN // 2 - len(head) - 4) + b"');\n"
    statement = b"INSERT INTO patients (id, nom) VALUES (2, " + b"9" * RUN + b"), (3, 'ok');\n"
    path = tmp_path / "dump.sql"
    path.write_bytes(head + filler + statement)
    assert len(head + filler) < _BLOCK < len(head + filler) + 42 + RUN

    result: dict[str, tuple[list[str], list[list[str]]]] = {}
    reader = threading.Thread(target=lambda: result.update(_read(path)), daemon=True)
    began = time.perf_counter()
    reader.start()
    reader.join(timeout=120)
    assert not reader.is_alive(), "the dump was still being read after 120 s"
    assert time.perf_counter() - began < 120
    columns, rows = result["patients"]
    assert columns == ["id", "nom"]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert rows[1][1] == "9" * RUN and rows[2][1] == "ok"


def test_read_time_is_linear_in_dump_size(tmp_path: Path, small_blocks: int) -> None:
    small, large = tmp_path / "small.sql", tmp_path / "large.sql"
    small.write_bytes(_dump(4 * small_blocks, small_blocks))
    large.write_bytes(_dump(8 * small_blocks, small_blocks))
    runs = _read(large)["t"][1]
    assert sum(len(row[1]) == RUN for row in runs) >= 7  # one run across each block boundary

    t_small = min(_timed_read(small) for _ in range(3))
    t_large = min(_timed_read(large) for _ in range(3))
    assert t_large <= 2.5 * t_small + 0.05, (t_small, t_large)


PG_DUMP = b"""--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$BEGIN NEW.note := 'it''s; done'; RETURN NEW; END$_$;

CREATE TABLE public.patients (
    id integer NOT NULL,
    nom text,
    note text,
    CONSTRAINT nom_present CHECK ((nom <> ''::text))
);

COPY public.patients (id, nom, note) FROM stdin;
1\tO'Brien\tligne 1\\nligne 2\\tfin
2\t\\N\tC:\\\\dossier\\\\
3\tZo\\303\\251\t\\x41; -- pas un commentaire
\\.

INSERT INTO public.patients VALUES (4, 'C:\\temp\\', E'l\\'\\\\ok');
"""

MYSQL_DUMP = b"""-- MySQL dump 10.13  Distrib 8.0.36
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `patients`;
CREATE TABLE `patients` (
  `id` int NOT NULL,
  `nom` varchar(50) DEFAULT NULL,
  `note` text,
  PRIMARY KEY (`id`),
  KEY `nom` (`nom`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `patients` WRITE;
/*!40000 ALTER TABLE `patients` DISABLE KEYS */;
INSERT INTO `patients` VALUES (1,'O\\'Brien','dit \\"non\\"; \\\\ fin'),(2,'L''\xc3\xa9a',NULL),\
(3,'a\\nb\\tc','/* pas */ -- pas # pas'),(4,_binary 'x)(y',-4.5e3);
/*!40000 ALTER TABLE `patients` ENABLE KEYS */;
UNLOCK TABLES;
"""


def test_postgres_copy_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "pg.sql"
    path.write_bytes(PG_DUMP)
    columns, rows = _read(path)["patients"]
    assert columns == ["id", "nom", "note"]
    assert rows == [
        ["1", "O'Brien", "ligne 1\nligne 2\tfin"],
        ["2", "", "C:\\dossier\\"],
        ["3", "Zoé", "A; -- pas un commentaire"],
        ["4", "C:\\temp\\", "l'\\ok"],
    ]


def test_pg_dump_with_more_than_a_block_of_schema_before_its_data(tmp_path: Path) -> None:
    schema = "".join(f"CREATE TABLE public.t{i} (id integer, nom text);\n" for i in range(3_000))
    path = tmp_path / "pg.sql"
    path.write_bytes(
        PG_DUMP.replace(
            b"CREATE TABLE public.patients", schema.encode() + b"CREATE TABLE public.patients"
        )
    )
    assert len(schema) > 64 * 1024
    columns, rows = _read(path)["patients"]
    assert columns == ["id", "nom", "note"] and len(rows) == 4


def test_mysql_multi_row_insert_with_escaped_quotes(tmp_path: Path) -> None:
    path = tmp_path / "my.sql"
    path.write_bytes(MYSQL_DUMP)
    columns, rows = _read(path)["patients"]
    assert columns == ["id", "nom", "note"]
    assert rows == [
        ["1", "O'Brien", 'dit "non"; \\ fin'],
        ["2", "L'éa", ""],
        ["3", "a\nb\tc", "/* pas */ -- pas # pas"],
        ["4", "x)(y", "-4.5e3"],
    ]


def test_sqlite_dump_backslash_is_ordinary(tmp_path: Path) -> None:
    path = tmp_path / "lite.sql"
    path.write_bytes(
        b"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
        b'CREATE TABLE "p" ("id" INTEGER, "chemin" TEXT);\n'
        b"INSERT INTO \"p\" VALUES(1,'C:\\x\\');\nINSERT INTO \"p\" VALUES(2,'y');\nCOMMIT;\n"
    )
    assert _read(path)["p"] == (["id", "chemin"], [["1", "C:\\x\\"], ["2", "y"]])


def test_dump_inside_a_zip_reads_the_same(tmp_path: Path, small_blocks: int) -> None:
    big = _dump(small_blocks * 5 // 2, small_blocks)  # two block boundaries, each with a run
    dumps = {"pg.sql": PG_DUMP, "my.sql": MYSQL_DUMP, "big.sql": big}
    archive = tmp_path / "fuite.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in dumps.items():
            (tmp_path / name).write_bytes(data)
            out.writestr(f"export/{name}", data)
    zipped = {t.name: (t.columns, _cells(t)) for t in read_tables(archive)}
    for name in dumps:
        for table, content in _read(tmp_path / name).items():
            assert zipped[f"{archive}/export/{name}:{table}"] == content
