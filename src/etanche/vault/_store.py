"""The encrypted patient store: the only way patient data goes in or out.

A ``Vault`` is one session on one database with one key ring. Every personal
value is sealed per patient and compartment before it reaches SQL, and every
write runs in one transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from uuid_utils import uuid7

from etanche._files import private_dir, write_private
from etanche.crypto import (
    INDEX_OWNER,
    NETWORK_PURPOSES,
    SYSTEM_PURPOSE,
    BlindIndexer,
    Context,
    KdfCost,
    KeyedPrf,
    KeyProvider,
    KeyRing,
    PassphraseKeyFile,
    Sealer,
    Signer,
    WrappedKey,
    audit_log_signer,
    new_key,
    open_sealed,
    seal,
)
from etanche.domain import (
    BirthQuery,
    Clinical,
    Compartment,
    Lab,
    Patient,
    Specimen,
    name_prefix,
    normalize_email,
    normalize_nir,
    normalize_phone_for_index,
    phonetic_key,
    starts_with,
    validate_patient,
    validate_specimen,
)
from etanche.errors import (
    IntegrityError,
    KeyNotFound,
    RecordNotFound,
    SchemaError,
    UsageError,
    VaultError,
    VaultExists,
    VaultNotFound,
)
from etanche.vault import (
    _codec,
    _index_store,
    _indexes,
    _landed,
    _reconnect,
    _reindex,
    _revisions,
    _versions,
)
from etanche.vault._bulk import BulkInsert
from etanche.vault._location import VaultLocation, make_engine
from etanche.vault._revisions import Journal, Ledger, Write, WriteBatch
from etanche.vault._schema import (
    data_keys,
    labs,
    network_identities,
    patient_index,
    patients,
    specimens,
    vault_meta,
)

ALL_COMPARTMENTS: tuple[Compartment, ...] = (Compartment.ADMIN, Compartment.CLINICAL)
_ADMIN = Compartment.ADMIN.value
_CLINICAL = Compartment.CLINICAL.value
_BATCH = 2_000
_MIGRATIONS = Path(__file__).parent / "migrations"

Progress = Callable[[int], None]


_DIGEST_BATCH = 500  # bound parameters per IN (...) lookup
_SHRED_BATCH = 20_000  # patients per bulk-shred transaction (SQLite 3.32+: 32,766 parameters);
# a shredded share of random ids touches most pages of each table: one pass writes each once
_SEALED_BATCH = 2_000  # patients whose dates one sealed_dates query reads
_REVISION_LOG = "revision_log"  # vault_meta: "adopt" until the service logged older rows


def _now() -> datetime:
    return datetime.now(UTC)


def new_record_id() -> str:
    """A time-ordered pseudonymous id (UUIDv7, 32 hex): says nothing about the person.

    Its first 48 bits are the creation time in milliseconds, so new rows append to
    the primary-key B-trees instead of landing on random pages; what that clock
    reveals, and to whom, is in docs/key-hierarchy.md ("Record ids").
    """
    return uuid7().hex


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a lab-key rotation did: rows re-encrypted and whether it finished."""

    lab_id: str
    to_version: int
    rows: int
    finished: bool


def _private_sqlite(directory: Path, database: Path) -> None:
    """The folder 0700 and an empty database file 0600 before SQLite opens it:
    SQLite gives its -wal, -shm and -journal files the database file's mode."""
    private_dir(directory)
    write_private(database, b"")


# Statements of every sheet read, built once (building one costs as much as running it).
_PATIENT_ROW = select(patients).where(patients.c.id == bindparam("patient_id"))
_SPECIMEN_ROWS = (
    select(specimens.c.id, specimens.c.data)
    .where(specimens.c.patient_id == bindparam("patient_id"))
    .order_by(specimens.c.collected_on)
)


class Vault:
    """One session on an encrypted vault, limited to some compartments."""

    def __init__(self, location: VaultLocation, engine: Engine, keyring: KeyRing) -> None:
        self.location = location
        self._engine = engine
        self._ring = keyring
        self._indexer = BlindIndexer(keyring.index_root(), _indexes.SPECS)
        self._owns_engine = True
        self._last_row: tuple[str, Row[Any]] | None = None
        # Set by session(): the process-wide unwrapped keys its request sessions copy.
        self._shared: list[KeyRing] | None = None
        self._shared_lock = threading.Lock()
        self._journal: Journal | None = None
        self._on_shred: Callable[[Sequence[str]], None] | None = None
        self.last_candidates = 0  # rows the last front-desk search decrypted

    # -- lifecycle ------------------------------------------------------------
    @classmethod
    def create(
        cls, location: VaultLocation, passphrase: str, *, kdf_cost: KdfCost | None = None
    ) -> Vault:
        """Create a vault whose KEKs sit in a passphrase key file (tests and benchmarks)."""
        keyfile = location.passphrase_file
        if keyfile.exists():
            raise VaultExists(f"key file {keyfile}: already exists")
        cls._check_new(location)
        if location.directory is not None:
            private_dir(location.directory)
        provider = PassphraseKeyFile.create(keyfile, passphrase, kdf_cost)
        try:
            return cls.create_with(location, provider)
        except BaseException:
            keyfile.unlink(missing_ok=True)
            raise

    @classmethod
    def _check_new(cls, location: VaultLocation) -> None:
        if location.directory is not None and location.sqlite_path.exists():
            raise VaultExists(f"vault {location.describe()}: already exists")

    @classmethod
    def create_with(cls, location: VaultLocation, provider: KeyProvider) -> Vault:
        """Create the schema (Alembic) and the network keys, wrapped by ``provider``'s KEK."""
        cls._check_new(location)
        if location.directory is not None:
            _private_sqlite(location.directory, location.sqlite_path)
        engine = make_engine(location)
        try:
            with engine.connect() as probe:
                if inspect(probe).has_table("alembic_version"):
                    raise VaultExists(f"vault {location.describe()}: already exists")
        except OperationalError:
            engine.dispose()
            raise VaultNotFound(f"vault {location.describe()}: database unreachable") from None
        try:
            ring = KeyRing(provider, [c.value for c in ALL_COMPARTMENTS])
            with engine.begin() as conn:
                command.upgrade(_alembic_config(conn), "head")
                network_keys = [ring.create(INDEX_OWNER, p, 1) for p in sorted(NETWORK_PURPOSES)]
                conn.execute(insert(data_keys), [_key_row(k) for k in network_keys])
                conn.execute(
                    insert(vault_meta),
                    [
                        {"key": "format", "value": "1"},
                        {"key": "created_at", "value": _now().isoformat()},
                    ],
                )
        except BaseException:
            engine.dispose()
            raise
        return cls(location, engine, ring)

    @classmethod
    def open(
        cls,
        location: VaultLocation,
        passphrase: str,
        *,
        compartments: Iterable[Compartment] = ALL_COMPARTMENTS,
    ) -> Vault:
        """Open a vault whose KEKs sit in a passphrase key file (tests and benchmarks)."""
        if location.directory is not None and not location.sqlite_path.exists():
            raise VaultNotFound(f"vault {location.describe()}: not found (run `etanche init`)")
        keyfile = location.passphrase_file
        if not keyfile.exists():
            raise VaultNotFound(f"key file {keyfile}: not found")
        provider = PassphraseKeyFile.open(keyfile, passphrase)
        return cls.open_with(location, provider, compartments=compartments)

    @classmethod
    def open_with(
        cls,
        location: VaultLocation,
        provider: KeyProvider,
        *,
        compartments: Iterable[Compartment] = ALL_COMPARTMENTS,
    ) -> Vault:
        """Open a session holding the keys of ``compartments`` only, under ``provider``."""
        if location.directory is not None and not location.sqlite_path.exists():
            raise VaultNotFound(f"vault {location.describe()}: not found (run `etanche init`)")
        engine = make_engine(location)
        try:
            with engine.connect() as conn:
                _check_schema(conn, location)
                stored = [_wrapped(row) for row in conn.execute(select(data_keys))]
        except OperationalError:
            engine.dispose()
            raise VaultNotFound(f"vault {location.describe()}: database unreachable") from None
        except BaseException:
            engine.dispose()
            raise
        ring = KeyRing(provider, [Compartment(c).value for c in compartments])
        ring.load(stored)
        return cls(location, engine, ring)

    @classmethod
    def upgrade(cls, location: VaultLocation) -> tuple[str, str]:
        """Run the pending Alembic migrations, in one transaction; (from, to) revisions.

        Schema changes need the database, not the keys: whoever administers the
        database upgrades it, and no key is unwrapped.
        """
        if location.directory is not None and not location.sqlite_path.exists():
            raise VaultNotFound(f"vault {location.describe()}: not found (run `etanche init`)")
        engine = make_engine(location)
        try:
            with engine.begin() as conn:
                before = MigrationContext.configure(conn).get_current_revision()
                if before is None:
                    raise VaultNotFound(
                        f"vault {location.describe()}: no Étanche schema (run `etanche init`)"
                    )
                command.upgrade(_alembic_config(conn), "head")
                after = MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()
        return before, str(after)

    def close(self) -> None:
        if self._owns_engine:  # a request session leaves the shared pool alone
            self._engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._engine

    def holds(self, compartment: Compartment) -> bool:
        """Whether this session can decrypt ``compartment``."""
        return self._ring.allows(compartment.value)

    def unlock(self, compartments: Iterable[Compartment]) -> None:
        """Widen this session to ``compartments`` (after the policy said so).

        The CLI opens the vault with no compartment, learns who is asking, then
        unwraps exactly the compartment keys the policy grants for the action.
        """
        wanted = {Compartment(c).value for c in compartments} - self._ring.compartments
        if not wanted:
            return
        self._ring.compartments = self._ring.compartments | wanted
        if self._shared is not None:
            self._ring.adopt(self._shared_keys())
            return
        with self._engine.connect() as conn:
            self._ring.load(_wrapped(r) for r in conn.execute(select(data_keys)))

    def _shared_keys(self) -> KeyRing:
        """Every data key of the store, unwrapped once per process (server sessions)."""
        assert self._shared is not None
        with self._shared_lock:
            if not self._shared:
                full = KeyRing(self._ring.provider, [c.value for c in ALL_COMPARTMENTS])
                with self._engine.connect() as conn:
                    full.load(_wrapped(r) for r in conn.execute(select(data_keys)))
                self._shared.append(full)
            return self._shared[0]

    def session(self, compartments: Iterable[Compartment] = ()) -> Vault:
        """A narrower session on the same database and KEK, for one request.

        The server opens the key file once; each request gets its own key ring
        holding only the compartments granted to the person asking.
        """
        if self._shared is None:
            self._shared = []
        ring = KeyRing(self._ring.provider, [Compartment(c).value for c in compartments])
        ring.adopt(self._shared_keys())
        child = Vault.__new__(Vault)
        child.location = self.location
        child._engine = self._engine
        child._ring = ring
        child._indexer = self._indexer
        child._owns_engine = False
        child._last_row = None
        child._shared = self._shared
        child._shared_lock = self._shared_lock
        child._journal = self._journal
        child._on_shred = self._on_shred
        child.last_candidates = 0
        return child

    # -- revisions ------------------------------------------------------------
    def record_writes(self, journal: Journal | None) -> None:
        """Give every committed write of this session (and its children) to ``journal``.

        The service logs them in the audit log; ``check_revisions`` later
        compares the tables with them. Called after the commit: a crash in
        between shows as a finding, never as silence.
        """
        self._journal = journal

    def on_shred(self, listener: Callable[[Sequence[str]], None] | None) -> None:
        """Give the ids of every committed crypto-shred of this session (and its
        children) to ``listener``: the service keeps them apart from backups."""
        self._on_shred = listener

    def _shredded(self, patient_ids: Sequence[str]) -> None:
        if self._on_shred is not None and patient_ids:
            self._on_shred(patient_ids)

    def erased_ids(self) -> list[str]:
        """Ids of every tombstone (erased patients), oldest erasure first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(patients.c.id)
                .where(patients.c.erased_at.is_not(None))
                .order_by(patients.c.erased_at, patients.c.id)
            )
            return [str(r.id) for r in rows]

    def _emit(self, writes: Sequence[Write]) -> None:
        if self._journal is not None and writes:
            self._journal(_revisions.encode(writes))

    def check_revisions(self, ledger: Ledger) -> tuple[int, list[_revisions.Finding]]:
        """(values checked, findings): stored values that are not their last logged write."""
        with self._engine.connect() as conn:
            return ledger.check(conn)

    def adopt_unlogged(self, ledger: Ledger, batch: int = _BATCH) -> Iterator[WriteBatch]:
        """Batches of writes for stored values with none logged (rows older than revisions)."""
        pending: list[Write] = []
        with self._engine.connect() as conn:
            for write in ledger.unlogged(conn):
                pending.append(write)
                if len(pending) >= batch:
                    yield _revisions.encode(pending)
                    pending = []
        if pending:
            yield _revisions.encode(pending)

    def adoption_pending(self) -> bool:
        """Whether rows written before revisions still wait to be logged once."""
        with self._engine.connect() as conn:
            flag = conn.execute(
                select(vault_meta.c.value).where(vault_meta.c.key == _REVISION_LOG)
            ).scalar()
        return flag == "adopt"

    def adoption_done(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(vault_meta).where(vault_meta.c.key == _REVISION_LOG))

    def lab_of(self, patient_id: str) -> str:
        """The home lab of a live patient (a clear column: no key needed).

        The row is kept for the read that follows the policy decision, so a
        decided read costs one query, not two; any write forgets it.
        """
        with self._engine.connect() as conn:
            row = self._live_row(conn, patient_id)
        self._last_row = (patient_id, row)
        return str(row.lab_id)

    def _just_read(self, patient_id: str) -> Row[Any] | None:
        """The row ``lab_of`` just fetched for this patient, once; else None."""
        kept, self._last_row = self._last_row, None
        if kept is not None and kept[0] == patient_id:
            return kept[1]
        return None

    def seal_system(self, table: str, row_id: str, plaintext: bytes) -> bytes:
        """Seal a non-patient secret (e.g. a TOTP seed) bound to its row."""
        return seal(self._ring.network_key(SYSTEM_PURPOSE), plaintext, _system_ctx(table, row_id))

    def open_system(self, table: str, row_id: str, blob: bytes) -> bytes:
        return open_sealed(self._ring.network_key(SYSTEM_PURPOSE), blob, _system_ctx(table, row_id))

    def network_key(self, purpose: str) -> bytes:
        """Raw network-wide key for another room's primitive (package signing seed)."""
        return self._ring.network_key(purpose)

    def audit_log_signer(self) -> Signer:
        """The audit log's signer, held by custody like the KEK (never a data key here)."""
        return audit_log_signer(self._ring.provider)

    def client_digest(self, purpose: str, address: str) -> str:
        """A keyed hash of a client address (throttling): equal for every worker,
        meaningless without the vault's system key."""
        return KeyedPrf(self._ring.network_key(SYSTEM_PURPOSE), f"client/{purpose}").hexdigest(
            address
        )

    def index_digest(self, index: str, normalised: str) -> bytes:
        """Blind-index digest under this vault's keys (decoy registry, leak tracing)."""
        return self._indexer.digest(index, normalised)

    def patients_by_digest(
        self, index: str, digests: Sequence[bytes]
    ) -> list[tuple[bytes, str, str]]:
        """(digest, patient id, lab) of live patients whose ``index`` digest is given.

        Blind indexes only, nothing decrypted: how a leak scan counts our patients
        in a found file and how trace recognises exported rows. Digests are 32
        bits: one agreeing index is a candidate, not a proof.
        """
        found: list[tuple[bytes, str, str]] = []
        with self._engine.connect() as conn:
            for start in range(0, len(digests), _DIGEST_BATCH):
                chunk = digests[start : start + _DIGEST_BATCH]
                rows = conn.execute(_index_store.live_digests(index, chunk))
                found.extend((bytes(r.digest), str(r.patient_id), str(r.lab_id)) for r in rows)
        return found

    # -- network identities ---------------------------------------------------
    def _identity_handle(self, patient_id: str) -> str:
        return KeyedPrf(self._ring.network_key(SYSTEM_PURPOSE), "network-identity").hexdigest(
            patient_id
        )

    def identity_of(self, patient_id: str) -> str | None:
        """The network identity a record is bound to, if any."""
        handle = self._identity_handle(patient_id)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(network_identities.c.sealed).where(network_identities.c.handle == handle)
            ).first()
        if row is None:
            return None
        identity, _, pid = self.open_system("network_identities", handle, row.sealed).partition(
            b"|"
        )
        if pid.decode() != patient_id:
            raise IntegrityError(f"patient {patient_id}: network identity row was moved")
        return identity.decode()

    def bind_identity(self, patient_ids: Sequence[str], identity: str) -> None:
        """Bind records to one network identity (records already bound keep theirs)."""
        rows = []
        for pid in patient_ids:
            if self.identity_of(pid) is not None:
                continue
            handle = self._identity_handle(pid)
            sealed = self.seal_system("network_identities", handle, f"{identity}|{pid}".encode())
            rows.append({"handle": handle, "sealed": sealed, "created_at": _now()})
        if rows:
            with self._engine.begin() as conn:
                conn.execute(insert(network_identities), rows)

    def records_of_identity(self, identity: str) -> list[str]:
        """Live record ids bound to a network identity (every link row is opened)."""
        found: list[str] = []
        with self._engine.connect() as conn:
            rows = conn.execute(select(network_identities)).all()
        for row in rows:
            bound, _, pid = self.open_system(
                "network_identities", row.handle, row.sealed
            ).partition(b"|")
            if bound.decode() == identity:
                found.append(pid.decode())
        return sorted(found)

    # -- labs -----------------------------------------------------------------
    def add_lab(self, lab: Lab) -> None:
        """Register a lab and create its version-1 data keys (idempotent)."""
        self._require_all_compartments("add a lab")
        with self._engine.begin() as conn:
            if conn.execute(select(labs.c.id).where(labs.c.id == lab.id)).first():
                return
            conn.execute(
                insert(labs),
                [
                    {
                        "id": lab.id,
                        "name": lab.name,
                        "finess": lab.finess,
                        "city": lab.city,
                        "street": lab.street or None,
                        "postcode": lab.postcode or None,
                        "legal_name": lab.legal_name or None,
                        "legal_address": lab.legal_address or None,
                        "siren": lab.siren or None,
                        "key_version": 1,
                    }
                ],
            )
            rows = [_key_row(self._ring.create(lab.id, c.value, 1)) for c in ALL_COMPARTMENTS]
            conn.execute(insert(data_keys), rows)

    def labs(self) -> list[Lab]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(labs).order_by(labs.c.id)).all()
        return [
            Lab(
                r.id,
                r.name,
                r.finess,
                r.city,
                r.street or "",
                r.postcode or "",
                r.legal_name or "",
                r.legal_address or "",
                r.siren or "",
            )
            for r in rows
        ]

    # -- writes ---------------------------------------------------------------
    def add(
        self, patient: Patient, specimens_: Sequence[Specimen] = (), *, validate: bool = True
    ) -> str:
        """Add one patient (and specimens) in one transaction; returns its id.

        A connection lost mid-write is retried on a fresh one (a failover): the
        retry first looks the id up, so a commit that did land is not written twice.
        """
        items = [(patient, list(specimens_))]
        _reconnect.retrying(
            lambda: self.add_many(items, validate=validate),
            landed=lambda: self._landed_patient(patient.id),
        )
        return patient.id

    def _landed_patient(self, patient_id: str) -> int | None:
        with self._engine.connect() as conn:
            writes = _landed.patient_writes(conn, patient_id)
        if writes is None:
            return None
        self._emit(writes)  # what the cut attempt would have logged after its commit
        return 1

    def add_many(
        self,
        items: Iterable[tuple[Patient, Sequence[Specimen]]],
        *,
        validate: bool = True,
        progress: Progress | None = None,
        workers: int = 0,
    ) -> int:
        """Bulk add in ONE transaction: all records land, or none do.

        Plaintexts are validated and serialised here; ``workers`` > 0 hands the
        crypto half (keys, wraps, seals, digests) to that many forked processes
        while this one writes. Only for command-line bulk loads, never from a
        process running threads.
        """
        total = 0
        with self._engine.begin() as conn:
            if self.location.is_sqlite:
                # Random ids scatter inserts over every B-tree page: give bulk loads a
                # bigger page cache (512 MiB) than everyday sessions.
                conn.exec_driver_sql("PRAGMA cache_size=-524288")
            versions = self._lab_versions(conn)
            for lab, version in versions.items():
                for compartment in self._ring.compartments:
                    self._ensure_lab_key(lab, compartment, version)
            writers = _Writers(conn)
            prepared = (
                self._prepare(batch, versions, validate) for batch in _chunks(items, _BATCH)
            )
            sealed = (
                _sealed_in_workers(self, writers, prepared, workers)
                if workers > 0
                else (self._seal_prepared(batch, writers) for batch in prepared)
            )
            logged: list[WriteBatch] = []
            for ready in sealed:
                writers.write(conn, ready)
                if ready.logged is not None:
                    logged.append(ready.logged)
                total += ready.count
                if progress:
                    progress(ready.count)
        if self._journal is not None:
            for batch in logged:  # after the commit: the log's own transactions follow it
                self._journal(batch)
        return total

    def _prepare(
        self,
        batch: Sequence[tuple[Patient, Sequence[Specimen]]],
        versions: dict[str, int],
        validate: bool,
    ) -> list[_Plain]:
        """Validate and serialise a batch: every plaintext, no key touched yet."""
        clinical_open = self._ring.allows(_CLINICAL)
        prepared: list[_Plain] = []
        for patient, specs in batch:
            if validate:
                validate_patient(patient)
                for spec in specs:
                    validate_specimen(spec)
            if not clinical_open and patient.clinical != _EMPTY_CLINICAL:
                raise UsageError(
                    f"patient {patient.id}: this session cannot write the clinical compartment"
                )
            prepared.append(
                (
                    patient.id,
                    patient.lab_id,
                    _version_of(versions, patient.lab_id, patient.id),
                    _codec.encode_admin(patient),
                    _codec.encode_clinical(patient) if clinical_open else None,
                    _indexes.index_input(patient),
                    [
                        (
                            s.id,
                            s.patient_id,
                            s.lab_id,
                            s.collected_at.date(),
                            _codec.encode_specimen(s),
                        )
                        for s in specs
                    ],
                    patient.last_visit,
                )
            )
        return prepared

    def _seal_prepared(self, prepared: list[_Plain], writers: _Writers) -> _Ready:
        """The crypto half of a bulk load: fresh patient keys, wraps, seals, digests,
        and the rows made ready for the driver, so the writer only inserts."""
        ring, indexer, now = self._ring, self._indexer, _now()
        p_rows: list[dict[str, Any]] = []
        i_rows: list[dict[str, Any]] = []
        s_rows: list[dict[str, Any]] = []
        for pid, lab, version, admin_plain, clinical_plain, searchable, specs, seen in prepared:
            admin_key = new_key()
            admin_sealer = Sealer(admin_key)  # seals the admin payload and the specimens
            row: dict[str, Any] = {
                "id": pid,
                "lab_id": lab,
                "key_version": version,
                "admin_key": ring.wrap_patient_key(admin_key, pid, lab, _ADMIN, version),
                "admin": admin_sealer.seal(
                    admin_plain, Context("patients", pid, lab, _ADMIN, version, 1)
                ),
                "clinical_key": None,
                "clinical": None,
                "admin_revision": 1,
                "clinical_revision": 0,
                "created_at": now,
                "updated_at": now,
                "erased_at": None,
                "last_visit_on": seen or now.date(),
            }
            if clinical_plain is not None:
                clinical_key = new_key()
                row["clinical_key"] = ring.wrap_patient_key(
                    clinical_key, pid, lab, _CLINICAL, version
                )
                row["clinical"] = seal(
                    clinical_key,
                    clinical_plain,
                    Context("patients", pid, lab, _CLINICAL, version, 1),
                )
                row["clinical_revision"] = 1
            on_row, index_rows = _index_store.split(
                pid, _indexes.digests(indexer, _indexes.index_values(searchable))
            )
            row.update(on_row)
            p_rows.append(row)
            i_rows.extend(index_rows)
            s_rows.extend(
                {
                    "id": sid,
                    "patient_id": spid,
                    "lab_id": slab,
                    "collected_on": day,
                    "data": admin_sealer.seal(
                        plain, Context("specimens", sid, lab, _ADMIN, version)
                    ),
                }
                for sid, spid, slab, day, plain in specs
            )
        logged = _revisions.encode(_row_writes(p_rows)) if self._journal is not None else None
        return writers.prepare(p_rows, i_rows, s_rows, logged)

    def update(
        self, patient: Patient, *, validate: bool = True, change: _versions.Change | None = None
    ) -> None:
        """Replace a patient's data; a session without clinical keeps clinical as is.

        What is replaced is kept as an earlier version (``history``), under the
        same patient keys, with ``change`` (who, why, which request) when given.
        """
        self._last_row = None
        if validate:
            validate_patient(patient)
        with self._engine.begin() as conn:
            row = self._live_row(conn, patient.id)
            if row.lab_id != patient.lab_id:
                raise VaultError(f"patient {patient.id}: lab_id cannot change on update")
            version = row.key_version
            admin_key = self._patient_key(row, _ADMIN)
            self._keep_version(conn, row, admin_key, patient, change)
            admin_rev = row.admin_revision + 1
            values: dict[str, Any] = {
                "admin": seal(
                    admin_key, _codec.encode_admin(patient), _ctx(row, _ADMIN, admin_rev)
                ),
                "admin_revision": admin_rev,
                "updated_at": _now(),
                "last_visit_on": patient.last_visit or row.created_at.date(),
            }
            written = [(_ADMIN, admin_rev, values["admin"])]
            if self._ring.allows(_CLINICAL):
                clinical_key = (
                    self._patient_key(row, _CLINICAL) if row.clinical_key is not None else new_key()
                )
                clinical_rev = row.clinical_revision + 1
                values["clinical_key"] = self._ring.wrap_patient_key(
                    clinical_key, row.id, row.lab_id, _CLINICAL, version
                )
                values["clinical"] = seal(
                    clinical_key,
                    _codec.encode_clinical(patient),
                    _ctx(row, _CLINICAL, clinical_rev),
                )
                values["clinical_revision"] = clinical_rev
                written.append((_CLINICAL, clinical_rev, values["clinical"]))
            on_row, index_rows = self._index_rows(patient)
            values.update(on_row)
            conn.execute(update(patients).where(patients.c.id == patient.id).values(**values))
            conn.execute(delete(patient_index).where(patient_index.c.patient_id == patient.id))
            if index_rows:
                conn.execute(insert(patient_index), index_rows)
        self._emit(_revisions.writes_of(patient.id, written))

    def _keep_version(
        self,
        conn: Connection,
        row: Row[Any],
        admin_key: bytes,
        patient: Patient,
        change: _versions.Change | None,
    ) -> None:
        """Keep the payloads an update replaces, if anything it holds changes."""
        old_admin = open_sealed(admin_key, row.admin, _ctx(row, _ADMIN))
        clinical_key: bytes | None = None
        old_clinical: bytes | None = None
        if self._ring.allows(_CLINICAL) and row.clinical is not None:
            clinical_key = self._patient_key(row, _CLINICAL)
            old_clinical = open_sealed(clinical_key, row.clinical, _ctx(row, _CLINICAL))
        before = _codec.decode_patient(old_admin, old_clinical)
        admin_fields, clinical_fields = _versions.changed_fields(before, patient)
        if old_clinical is None:
            clinical_fields = []
        if not admin_fields and not clinical_fields:
            return
        clinical = None
        if clinical_key is not None and old_clinical is not None and clinical_fields:
            clinical = (clinical_key, old_clinical, clinical_fields)
        _versions.keep(
            conn,
            patient_id=row.id,
            lab_id=row.lab_id,
            key_version=row.key_version,
            change=change or _versions.Change(by="unknown"),
            admin=(admin_key, old_admin, admin_fields),
            clinical=clinical,
        )

    def history(self, patient_id: str) -> list[_versions.Version]:
        """Earlier versions of a live patient, oldest first (clinical fields if held)."""
        with self._engine.connect() as conn:
            row = self._live_row(conn, patient_id)
            admin_key = self._patient_key(row, _ADMIN)
            clinical_key = None
            if self._ring.allows(_CLINICAL) and row.clinical_key is not None:
                clinical_key = self._patient_key(row, _CLINICAL)
            return _versions.listed(
                conn,
                patient_id=row.id,
                lab_id=row.lab_id,
                admin_key=admin_key,
                clinical_key=clinical_key,
            )

    def add_specimen(self, specimen: Specimen, *, validate: bool = True) -> bool:
        """Record a specimen, sealed with its patient's admin key.

        The patient's last visit follows the newest specimen, in the same
        transaction (a specimen never lands without its visit). Returns whether
        the last visit moved.
        """
        if validate:
            validate_specimen(specimen)
        return _reconnect.retrying(
            lambda: self._add_specimen(specimen),
            landed=lambda: self._landed_specimen(specimen),
        )

    def _landed_specimen(self, specimen: Specimen) -> bool | None:
        """After a cut commit: True if the specimen is stored (its visit logged again)."""
        with self._engine.connect() as conn:
            if not _landed.specimen_stored(conn, specimen.id):
                return None
            writes = _landed.patient_writes(conn, specimen.patient_id)
        self._emit(writes or [])
        return True  # whether the last visit moved is not known: say it may have

    def _add_specimen(self, specimen: Specimen) -> bool:
        self._last_row = None
        written: list[tuple[str, int, bytes | None]] = []
        with self._engine.begin() as conn:
            row = self._live_row(conn, specimen.patient_id)
            admin_key = self._patient_key(row, _ADMIN)
            conn.execute(
                insert(specimens),
                [self._specimen_row(specimen, admin_key, row.lab_id, row.key_version)],
            )
            visited = specimen.collected_at.date()
            patient = _codec.decode_patient(
                open_sealed(admin_key, row.admin, _ctx(row, _ADMIN)), None
            )
            if patient.last_visit is None or patient.last_visit < visited:
                admin_rev = row.admin_revision + 1
                admin = seal(
                    admin_key,
                    _codec.encode_admin(replace(patient, last_visit=visited)),
                    _ctx(row, _ADMIN, admin_rev),
                )
                conn.execute(
                    update(patients)
                    .where(patients.c.id == row.id)
                    .values(admin=admin, admin_revision=admin_rev, updated_at=_now())
                )
                written.append((_ADMIN, admin_rev, admin))
        if written:
            self._emit(_revisions.writes_of(specimen.patient_id, written))
        return bool(written)

    def erase(self, patient_id: str) -> None:
        """Crypto-shred a patient: keys, ciphertexts, indexes and specimens go.

        The row stays as a tombstone (id, lab, erased_at) so audits can say
        the record existed and when it was erased.
        """
        self._last_row = None
        with self._engine.begin() as conn:
            row = self._live_row(conn, patient_id)
            written = _shred(conn, [(row.id, row.admin_revision, row.clinical_revision)])
            conn.execute(
                delete(network_identities).where(
                    network_identities.c.handle == self._identity_handle(patient_id)
                )
            )
        # An erasure is a write of NULL: logged, so it is never taken for a rollback.
        self._emit(written)
        self._shredded([patient_id])
        self._purge_freed_space()

    def erase_many(self, patient_ids: Sequence[str], *, batch: int = _SHRED_BATCH) -> list[str]:
        """Crypto-shred many patients, ``batch`` per transaction: the same tombstone as ``erase``.

        One statement per table and batch instead of one transaction per patient
        (the retention purge). Ids already erased or unknown are skipped; returns
        the ids shredded. Each batch commits on its own: a failure leaves whole
        batches done, never a half-shredded patient.
        """
        self._last_row = None
        done: list[str] = []
        for start in range(0, len(patient_ids), batch):
            chunk = sorted(patient_ids[start : start + batch])
            with self._engine.begin() as conn:
                if self.location.is_sqlite:  # deletes touch pages all over the B-trees
                    conn.exec_driver_sql("PRAGMA cache_size=-524288")
                live = [
                    (r.id, r.admin_revision, r.clinical_revision)
                    for r in conn.execute(
                        select(
                            patients.c.id, patients.c.admin_revision, patients.c.clinical_revision
                        ).where(patients.c.id.in_(chunk), patients.c.erased_at.is_(None))
                    )
                ]
                written = _shred(conn, live) if live else []
                if live:
                    handles = [self._identity_handle(pid) for pid, _, _ in live]
                    conn.execute(
                        delete(network_identities).where(network_identities.c.handle.in_(handles))
                    )
            self._emit(written)
            self._shredded([pid for pid, _, _ in live])
            done.extend(pid for pid, _, _ in live)
        if done:
            self._purge_freed_space()
        return done

    # -- reads ----------------------------------------------------------------
    def get(self, patient_id: str) -> Patient:
        """Decrypt one patient (clinical part only if this session holds it)."""
        row = self._just_read(patient_id)
        if row is None:
            with self._engine.connect() as conn:
                row = self._live_row(conn, patient_id)
        return self._decrypt(row)

    def get_many(self, patient_ids: Sequence[str]) -> list[Patient]:
        """Decrypt several live patients in one query, in the order asked (bulk exports).

        A missing or erased id fails the whole read, as ``get`` would for it.
        """
        if not patient_ids:
            return []
        with self._engine.connect() as conn:
            rows = {
                r.id: r
                for r in conn.execute(select(patients).where(patients.c.id.in_(list(patient_ids))))
            }
        found: list[Patient] = []
        for patient_id in patient_ids:
            row = rows.get(patient_id)
            if row is None or row.erased_at is not None:
                state = "not found" if row is None else "erased"
                raise RecordNotFound(f"patient {patient_id}: {state}")
            found.append(self._decrypt(row))
        return found

    def check_records(self, batch: int = 2000) -> tuple[int, list[str]]:
        """Decrypt every live patient and recompute its blind indexes (a restore drill).

        Returns (patients checked, ids whose stored index rows are not the
        recomputed ones). A ciphertext that does not open raises IntegrityError
        naming its row; no value is ever returned.
        """
        ids = self.patient_ids()
        mismatched: list[str] = []
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            with self._engine.connect() as conn:
                stored: dict[str, set[tuple[str, bytes]]] = {pid: set() for pid in chunk}
                for pid, name, digest in _index_store.entries_of(conn, None, chunk):
                    stored[pid].add((name, digest))
            for patient in self.get_many(chunk):
                expected = set(_indexes.index_entries(self._indexer, patient))
                if not expected <= stored[patient.id]:
                    mismatched.append(patient.id)
        return len(ids), mismatched

    def specimens_of(self, patient_id: str) -> list[Specimen]:
        with self._engine.connect() as conn:
            row = self._just_read(patient_id) or self._live_row(conn, patient_id)
            found = self._specimen_rows(conn, patient_id)
        admin_key = self._patient_key(row, _ADMIN)
        return [self._open_specimen(s.id, s.data, admin_key, row) for s in found]

    def get_with_specimens(self, patient_id: str) -> tuple[Patient, list[Specimen]]:
        """A patient and its specimens over one row fetch (the sheet's read)."""
        with self._engine.connect() as conn:
            row = self._just_read(patient_id) or self._live_row(conn, patient_id)
            found = self._specimen_rows(conn, patient_id)
        patient = self._decrypt(row)
        admin_key = self._patient_key(row, _ADMIN)
        return patient, [self._open_specimen(s.id, s.data, admin_key, row) for s in found]

    def _specimen_rows(self, conn: Connection, patient_id: str) -> Sequence[Any]:
        return conn.execute(_SPECIMEN_ROWS, {"patient_id": patient_id}).all()

    def sealed_dates(
        self, patient_ids: Sequence[str]
    ) -> tuple[dict[str, date | None], list[tuple[str, str, date, date]]]:
        """The dates sealed in the records, to check the clear ones against (retention purge).

        Returns each live patient's sealed last visit, and (specimen id, patient
        id, clear day, sealed day) of each of their specimens. Needs the admin
        compartment; each patient key is unwrapped once, only the two dates are
        decoded, and nothing decrypted here leaves the service.
        """
        visits: dict[str, date | None] = {}
        days: list[tuple[str, str, date, date]] = []
        keys: dict[str, tuple[bytes, Any]] = {}
        row: Any
        with self._engine.connect() as conn:
            for start in range(0, len(patient_ids), _SEALED_BATCH):
                chunk = list(patient_ids[start : start + _SEALED_BATCH])
                for row in conn.execute(_SEALED_ADMIN, {"ids": chunk}).all():
                    key = self._patient_key(row, _ADMIN)
                    pid, visits[row.id] = _codec.last_visit_of(
                        open_sealed(key, row.admin, _ctx(row, _ADMIN))
                    )
                    if pid != row.id:
                        raise VaultError(f"patient {row.id}: payload does not belong to this row")
                    keys[row.id] = (key, row)
                for spec in conn.execute(_SEALED_SPECIMENS, {"ids": chunk}).all():
                    key, row = keys[spec.patient_id]
                    context = Context("specimens", spec.id, row.lab_id, _ADMIN, row.key_version)
                    sid, collected = _codec.collected_at_of(open_sealed(key, spec.data, context))
                    if sid != spec.id:
                        raise VaultError(f"specimen {spec.id}: payload does not belong to this row")
                    days.append((spec.id, spec.patient_id, spec.collected_on, collected.date()))
        return visits, days

    def specimen_owner(self, specimen_id: str) -> str:
        """The patient a live specimen belongs to (clear columns: no key needed)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(specimens.c.patient_id)
                .join(patients, patients.c.id == specimens.c.patient_id)
                .where(specimens.c.id == specimen_id, patients.c.erased_at.is_(None))
            ).first()
        if row is None:
            raise RecordNotFound(f"specimen {specimen_id}: not found")
        return str(row.patient_id)

    def specimen(self, specimen_id: str) -> Specimen:
        """Decrypt one specimen with its patient's admin key."""
        with self._engine.connect() as conn:
            row = self._live_row(conn, self.specimen_owner(specimen_id))
            found = conn.execute(
                select(specimens.c.data).where(specimens.c.id == specimen_id)
            ).first()
        if found is None:
            raise RecordNotFound(f"specimen {specimen_id}: not found")
        return self._open_specimen(specimen_id, found.data, self._patient_key(row, _ADMIN), row)

    def find_by_nir(self, nir: str) -> list[Patient]:
        wanted = normalize_nir(nir)
        return self._find(
            _indexes.NIR, wanted, lambda p: p.nir is not None and normalize_nir(p.nir) == wanted
        )

    def find_by_name(self, birth_name: str, first_name: str, birth_date: date) -> list[Patient]:
        wanted = _indexes.name_dob_key(birth_name, first_name, birth_date)
        return self._find(
            _indexes.NAME_DOB,
            wanted,
            lambda p: (
                _indexes.name_dob_key(p.birth_name, p.first_first_name, p.birth_date) == wanted
            ),
        )

    def known_identity(self, patient: Patient) -> int:
        """How many live records share this patient's NIR or INS traits (birth name, first
        first name, birth date), in any lab: what a new record would duplicate."""
        found = {p.id for p in self.find_by_nir(patient.nir)} if patient.nir else set()
        if patient.birth_name and patient.first_names and patient.birth_date:
            first = patient.first_names[0]
            found |= {
                p.id for p in self.find_by_name(patient.birth_name, first, patient.birth_date)
            }
        found.discard(patient.id)
        return len(found)

    def find_by_phone(self, phone: str) -> list[Patient]:
        wanted = normalize_phone_for_index(phone)
        return self._find(
            _indexes.PHONE,
            wanted,
            lambda p: any(normalize_phone_for_index(x) == wanted for x in p.phones),
        )

    def find_by_email(self, email: str) -> list[Patient]:
        wanted = normalize_email(email)
        return self._find(
            _indexes.EMAIL, wanted, lambda p: any(normalize_email(x) == wanted for x in p.emails)
        )

    def find_by_prefix(
        self, lab_ids: Sequence[str], prefix: str, birth: BirthQuery
    ) -> list[Patient]:
        """Birth names starting with ``prefix`` (3 letters or more) born as ``birth`` says.

        Only the labs given are looked at: the index hashes the lab with the
        first three letters and the year, so a search computes one digest per
        lab it may read and never meets another lab's rows.
        """
        head = name_prefix(prefix)
        keys = [_indexes.prefix_year_key(lab, head, birth.year) for lab in lab_ids]
        return self._find_many(
            _indexes.PREFIX_YEAR,
            lab_ids,
            keys,
            lambda p: starts_with(p.birth_name, prefix) and birth.matches(p.birth_date),
        )

    def find_by_sound(self, lab_ids: Sequence[str], name: str, birth: BirthQuery) -> list[Patient]:
        """Birth names that sound like ``name`` in French, born as ``birth`` says (those labs)."""
        sound = phonetic_key(name)
        keys = [_indexes.phonetic_year_key(lab, sound, birth.year) for lab in lab_ids]
        return self._find_many(
            _indexes.PHONETIC_YEAR,
            lab_ids,
            keys,
            lambda p: phonetic_key(p.birth_name) == sound and birth.matches(p.birth_date),
        )

    def list_specimens(
        self, lab_id: str, start: date | None = None, end: date | None = None
    ) -> Iterator[Specimen]:
        """Specimens collected at ``lab_id`` between ``start`` and ``end`` (inclusive)."""
        conditions = [specimens.c.lab_id == lab_id]
        if start is not None:
            conditions.append(specimens.c.collected_on >= start)
        if end is not None:
            conditions.append(specimens.c.collected_on <= end)
        query = (
            select(specimens.c.id.label("specimen_id"), specimens.c.data, *_patient_key_columns())
            .join(patients, patients.c.id == specimens.c.patient_id)
            .where(and_(*conditions), patients.c.erased_at.is_(None))
            .order_by(specimens.c.collected_on, specimens.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            admin_key = self._patient_key(row, _ADMIN)
            yield self._open_specimen(row.specimen_id, row.data, admin_key, row)

    def patient_ids(self, lab_id: str | None = None) -> list[str]:
        """Ids of live patients (optionally of one lab); ids are pseudonymous."""
        query = select(patients.c.id).where(patients.c.erased_at.is_(None))
        if lab_id is not None:
            query = query.where(patients.c.lab_id == lab_id)
        with self._engine.connect() as conn:
            return [r.id for r in conn.execute(query.order_by(patients.c.id))]

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(patients).where(patients.c.erased_at.is_(None))
                ).scalar_one()
            )

    # -- front-desk index backfill --------------------------------------------
    def front_desk_gap(self) -> int:
        """Live records missing a front-desk index row (two counts: cheap at start)."""
        return _reindex.front_desk_gap(self._engine)

    def reindex_front_desk(
        self, *, batch_size: int = 500, max_batches: int | None = None
    ) -> _reindex.ReindexReport:
        """Compute the missing prefix and phonetic rows (needs the admin compartment)."""
        if not self._ring.allows(_ADMIN):
            raise UsageError("session: cannot reindex without the admin compartment")
        return _reindex.reindex_front_desk(
            self._engine,
            self._decrypt,
            lambda patient: self._index_rows(patient)[1],
            batch_size=batch_size,
            max_batches=max_batches,
        )

    # -- keys -----------------------------------------------------------------
    def rotate_kek(self) -> tuple[str, int]:
        """New KEK; rewrap every data key (no data re-encrypted); retire old KEKs."""
        provider = self._ring.provider
        old_ids = set(getattr(provider, "kek_ids", ()))
        new_id = provider.rotate()
        with self._engine.begin() as conn:
            stored = [_wrapped(r) for r in conn.execute(select(data_keys))]
            for item in stored:
                fresh = self._ring.rewrap(item)
                conn.execute(
                    update(data_keys)
                    .where(
                        data_keys.c.owner == item.owner,
                        data_keys.c.purpose == item.purpose,
                        data_keys.c.version == item.version,
                    )
                    .values(kek_id=fresh.kek_id, wrapped=fresh.wrapped)
                )
        for kek_id in old_ids - {new_id}:
            provider.retire(kek_id)
        return new_id, len(stored)

    def rotate_lab(
        self,
        lab_id: str,
        *,
        batch_size: int = 500,
        max_batches: int | None = None,
        progress: Progress | None = None,
    ) -> RotationReport:
        """Re-encrypt a lab's patients under a new lab key version, in batches.

        Online: new patients use the new version at once and every row stays
        readable throughout. Resumable: each batch commits on its own, and a
        rerun continues with the rows still under an older version. The old lab
        keys are shredded once no row uses them.
        """
        self._require_all_compartments("rotate a lab key")
        self._last_row = None
        with self._engine.begin() as conn:
            current = conn.execute(select(labs.c.key_version).where(labs.c.id == lab_id)).scalar()
            if current is None:
                raise RecordNotFound(f"lab {lab_id}: not in the vault")
            if self._pending(conn, lab_id, current) == 0:
                current += 1
                rows = [
                    _key_row(self._ring.create(lab_id, c.value, current)) for c in ALL_COMPARTMENTS
                ]
                conn.execute(insert(data_keys), rows)
                conn.execute(update(labs).where(labs.c.id == lab_id).values(key_version=current))
        done = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            with self._engine.begin() as conn:
                rows_ = conn.execute(
                    select(patients)
                    .where(
                        patients.c.lab_id == lab_id,
                        patients.c.key_version < current,
                        patients.c.erased_at.is_(None),
                    )
                    .order_by(patients.c.id)
                    .limit(batch_size)
                ).all()
                if not rows_:
                    break
                written: list[Write] = []
                for row in rows_:
                    written.extend(self._reencrypt(conn, row, current))
            self._emit(written)  # re-encryptions are writes: new revisions, new hashes
            done += len(rows_)
            batches += 1
            if progress:
                progress(len(rows_))
        with self._engine.begin() as conn:
            finished = self._pending(conn, lab_id, current) == 0
            if finished:
                conn.execute(
                    delete(data_keys).where(
                        data_keys.c.owner == lab_id, data_keys.c.version < current
                    )
                )
                conn.execute(
                    update(patients)
                    .where(patients.c.lab_id == lab_id, patients.c.erased_at.is_not(None))
                    .values(key_version=current)
                )
        if finished:
            self._purge_freed_space()
        return RotationReport(lab_id, current, done, finished)

    # -- internals ------------------------------------------------------------
    def _require_all_compartments(self, what: str) -> None:
        missing = [c.value for c in ALL_COMPARTMENTS if not self._ring.allows(c.value)]
        if missing:
            raise UsageError(f"session: cannot {what} without the {', '.join(missing)} compartment")

    def _lab_versions(self, conn: Connection) -> dict[str, int]:
        return {r.id: r.key_version for r in conn.execute(select(labs.c.id, labs.c.key_version))}

    def _pending(self, conn: Connection, lab_id: str, version: int) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(patients)
                .where(
                    patients.c.lab_id == lab_id,
                    patients.c.key_version < version,
                    patients.c.erased_at.is_(None),
                )
            ).scalar_one()
        )

    def _ensure_lab_key(self, lab_id: str, compartment: str, version: int) -> None:
        """Another session may have rotated: reload keys from the store once."""
        if self._ring.has(lab_id, compartment, version):
            return
        with self._engine.connect() as conn:
            stored = [
                _wrapped(r)
                for r in conn.execute(select(data_keys).where(data_keys.c.owner == lab_id))
            ]
        self._ring.load(stored)

    def _index_rows(self, patient: Patient) -> tuple[dict[str, bytes | None], list[dict[str, Any]]]:
        """The patient's digests: ``patients`` column values, and ``patient_index`` rows."""
        return _index_store.split(patient.id, _indexes.index_entries(self._indexer, patient))

    def _specimen_row(
        self, specimen: Specimen, admin_key: bytes, patient_lab: str, version: int
    ) -> dict[str, Any]:
        context = Context("specimens", specimen.id, patient_lab, _ADMIN, version)
        return {
            "id": specimen.id,
            "patient_id": specimen.patient_id,
            "lab_id": specimen.lab_id,
            "collected_on": specimen.collected_at.date(),
            "data": seal(admin_key, _codec.encode_specimen(specimen), context),
        }

    def _open_specimen(
        self, specimen_id: str, data: bytes, admin_key: bytes, row: Row[Any]
    ) -> Specimen:
        context = Context("specimens", specimen_id, row.lab_id, _ADMIN, row.key_version)
        return _codec.decode_specimen(open_sealed(admin_key, data, context))

    def _live_row(self, conn: Connection, patient_id: str) -> Row[Any]:
        row = conn.execute(_PATIENT_ROW, {"patient_id": patient_id}).first()
        if row is None:
            raise RecordNotFound(f"patient {patient_id}: not found")
        if row.erased_at is not None:
            raise RecordNotFound(f"patient {patient_id}: erased")
        return row

    def _patient_key(self, row: Row[Any], compartment: str) -> bytes:
        wrapped = row.admin_key if compartment == _ADMIN else row.clinical_key
        self._ensure_lab_key(row.lab_id, compartment, row.key_version)
        return self._ring.unwrap_patient_key(
            wrapped, row.id, row.lab_id, compartment, row.key_version
        )

    def _decrypt(self, row: Row[Any]) -> Patient:
        if row.admin is None:
            if row.admin_revision:
                raise IntegrityError(
                    f"patient {row.id}: admin is NULL where revision {row.admin_revision} "
                    "was written (run `etanche vault verify`)"
                )
            raise KeyNotFound(f"patient {row.id}: admin data was shredded")
        admin = open_sealed(self._patient_key(row, _ADMIN), row.admin, _ctx(row, _ADMIN))
        clinical: bytes | None = None
        if self._ring.allows(_CLINICAL):
            if row.clinical is not None:
                clinical = open_sealed(
                    self._patient_key(row, _CLINICAL), row.clinical, _ctx(row, _CLINICAL)
                )
            elif row.clinical_revision:
                raise IntegrityError(
                    f"patient {row.id}: clinical is NULL where revision "
                    f"{row.clinical_revision} was written (run `etanche vault verify`)"
                )
        patient = _codec.decode_patient(admin, clinical)
        if patient.id != row.id or patient.lab_id != row.lab_id:
            raise VaultError(f"patient {row.id}: payload does not belong to this row")
        return patient

    def _find(
        self, index: str, normalised: str, matches: Callable[[Patient], bool]
    ) -> list[Patient]:
        digest = self._indexer.digest(index, normalised)
        with self._engine.connect() as conn:
            statement = _index_store.find_statement(index)
            rows = conn.execute(statement, {"index": index, "digest": digest}).all()
        found = [self._decrypt(r) for r in rows if r.erased_at is None]
        return [p for p in found if matches(p)]

    def _find_many(
        self,
        index: str,
        lab_ids: Sequence[str],
        normalised: Sequence[str],
        matches: Callable[[Patient], bool],
    ) -> list[Patient]:
        """Rows of ``lab_ids`` under any of the digests, decrypted, kept if they really match.

        A 12-bit digest of one lab's key also falls on other labs' rows: the clear
        ``lab_id`` drops those before anything is decrypted. ``last_candidates``
        counts the rows decrypted (what a truncated index costs).
        """
        digests = sorted({_indexes.digest(self._indexer, index, value) for value in normalised})
        query = (
            select(patients)
            .join(patient_index, patient_index.c.patient_id == patients.c.id)
            .where(
                patient_index.c.name == index,
                patient_index.c.digest.in_(digests),
                patients.c.lab_id.in_(list(lab_ids)),
            )
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all() if digests else []
        live = [r for r in rows if r.erased_at is None]
        self.last_candidates = len(live)
        return [p for p in (self._decrypt(r) for r in live) if matches(p)]

    def _reencrypt(self, conn: Connection, row: Row[Any], version: int) -> list[Write]:
        """Fresh patient keys under lab key ``version``; payloads re-sealed at a new revision."""
        old_admin = self._patient_key(row, _ADMIN)
        admin_plain = open_sealed(old_admin, row.admin, _ctx(row, _ADMIN))
        pid, lab = row.id, row.lab_id
        admin_key = new_key()
        admin_rev = row.admin_revision + 1
        values: dict[str, Any] = {
            "key_version": version,
            "admin_key": self._ring.wrap_patient_key(admin_key, pid, lab, _ADMIN, version),
            "admin": seal(
                admin_key, admin_plain, Context("patients", pid, lab, _ADMIN, version, admin_rev)
            ),
            "admin_revision": admin_rev,
            "updated_at": _now(),
        }
        written = [(_ADMIN, admin_rev, values["admin"])]
        if row.clinical is not None:
            clinical_plain = open_sealed(
                self._patient_key(row, _CLINICAL), row.clinical, _ctx(row, _CLINICAL)
            )
            clinical_key = new_key()
            clinical_rev = row.clinical_revision + 1
            values["clinical_key"] = self._ring.wrap_patient_key(
                clinical_key, pid, lab, _CLINICAL, version
            )
            values["clinical"] = seal(
                clinical_key,
                clinical_plain,
                Context("patients", pid, lab, _CLINICAL, version, clinical_rev),
            )
            values["clinical_revision"] = clinical_rev
            written.append((_CLINICAL, clinical_rev, values["clinical"]))
        self._reseal_history(conn, row, old_admin, values, version)
        for spec in conn.execute(
            select(specimens.c.id, specimens.c.data).where(specimens.c.patient_id == pid)
        ).all():
            plain = open_sealed(
                old_admin, spec.data, Context("specimens", spec.id, lab, _ADMIN, row.key_version)
            )
            sealed = seal(admin_key, plain, Context("specimens", spec.id, lab, _ADMIN, version))
            conn.execute(update(specimens).where(specimens.c.id == spec.id).values(data=sealed))
        conn.execute(update(patients).where(patients.c.id == pid).values(**values))
        return _revisions.writes_of(pid, written)

    def _reseal_history(
        self,
        conn: Connection,
        row: Row[Any],
        old_admin: bytes,
        values: dict[str, Any],
        version: int,
    ) -> None:
        """Earlier versions follow the record to its fresh patient keys."""
        old_clinical = new_clinical = None
        if row.clinical is not None:
            old_clinical = self._patient_key(row, _CLINICAL)
            new_clinical = self._ring.unwrap_patient_key(
                values["clinical_key"], row.id, row.lab_id, _CLINICAL, version
            )
        new_admin = self._ring.unwrap_patient_key(
            values["admin_key"], row.id, row.lab_id, _ADMIN, version
        )
        _versions.reseal(
            conn,
            patient_id=row.id,
            lab_id=row.lab_id,
            old=(old_admin, old_clinical, row.key_version),
            new=(new_admin, new_clinical, version),
        )

    def _purge_freed_space(self) -> None:
        """Make shredded bytes leave the files: WAL truncated (SQLite), VACUUM (PostgreSQL)."""
        try:
            with self._engine.connect() as conn:
                if self.location.is_sqlite:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                else:
                    auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                    for table in ("patients", "patient_index", "specimens", "data_keys"):
                        auto.exec_driver_sql(f"VACUUM {table}")
        except SQLAlchemyError:  # best effort: the data is already unreadable
            pass


_SEALED_ADMIN = select(
    patients.c.id,
    patients.c.lab_id,
    patients.c.key_version,
    patients.c.admin_key,
    patients.c.admin,
    patients.c.admin_revision,
).where(patients.c.id.in_(bindparam("ids", expanding=True)), patients.c.erased_at.is_(None))
_SEALED_SPECIMENS = select(
    specimens.c.id, specimens.c.patient_id, specimens.c.collected_on, specimens.c.data
).where(specimens.c.patient_id.in_(bindparam("ids", expanding=True)))


def _system_ctx(table: str, row_id: str) -> Context:
    return Context(table, row_id, INDEX_OWNER, SYSTEM_PURPOSE, 1)


def _ctx(row: Row[Any], compartment: str, revision: int | None = None) -> Context:
    """Where ``row``'s compartment belongs: at its stored revision, or at ``revision``."""
    if revision is None:
        revision = row.admin_revision if compartment == _ADMIN else row.clinical_revision
    return Context("patients", row.id, row.lab_id, compartment, row.key_version, revision)


def _shred(conn: Connection, live: Sequence[tuple[str, int, int]]) -> list[Write]:
    """Shred live patients (id, admin and clinical revisions) in one statement per table.

    Keys, ciphertexts, the retention day, indexes, specimens and earlier versions go; the row stays
    as a tombstone. Each compartment gets a write of NULL at the next revision.
    """
    ids = [pid for pid, _, _ in live]
    now = _now()
    conn.execute(delete(patient_index).where(patient_index.c.patient_id.in_(ids)))
    conn.execute(delete(specimens).where(specimens.c.patient_id.in_(ids)))
    _versions.forget(conn, ids)
    conn.execute(
        update(patients)
        .where(patients.c.id.in_(ids), patients.c.erased_at.is_(None))
        .values(
            admin_key=None,
            clinical_key=None,
            admin=None,
            clinical=None,
            admin_revision=patients.c.admin_revision + 1,
            clinical_revision=patients.c.clinical_revision + 1,
            last_visit_on=None,
            **_index_store.CLEARED,
            erased_at=now,
            updated_at=now,
        )
    )
    return [
        w
        for pid, admin_rev, clinical_rev in live
        for w in _revisions.writes_of(
            pid, [(_ADMIN, admin_rev + 1, None), (_CLINICAL, clinical_rev + 1, None)]
        )
    ]


def _row_writes(rows: list[dict[str, Any]]) -> list[Write]:
    """The writes of freshly sealed patient rows (bulk loads)."""
    return [
        w
        for r in rows
        for w in _revisions.writes_of(
            r["id"],
            [(_ADMIN, r["admin_revision"], r["admin"])]
            + ([(_CLINICAL, r["clinical_revision"], r["clinical"])] if r["clinical"] else []),
        )
    ]


def _patient_key_columns() -> tuple[Any, ...]:
    return (
        patients.c.id,
        patients.c.lab_id,
        patients.c.key_version,
        patients.c.admin_key,
        patients.c.clinical_key,
    )


def _version_of(versions: dict[str, int], lab_id: str, patient_id: str) -> int:
    try:
        return versions[lab_id]
    except KeyError:
        raise RecordNotFound(f"patient {patient_id}: lab {lab_id} is not in the vault") from None


_Batch = list[tuple[Patient, Sequence[Specimen]]]
# A patient ready for sealing: id, lab, key version, admin and clinical plaintexts,
# what the blind indexes hash (normalised in the worker), specimens (id, patient
# id, lab, day, plaintext).
_SpecimenPlain = tuple[str, str, str, date, bytes]
_Plain = tuple[
    str, str, int, bytes, bytes | None, _indexes.IndexInput, list[_SpecimenPlain], date | None
]
_EMPTY_CLINICAL = Clinical()
_plain_encoder = msgspec.msgpack.Encoder()
_plain_decoder = msgspec.msgpack.Decoder(list[_Plain])
_FORKED: tuple[Vault, _Writers] | None = None  # what a forked sealing worker inherits


def _chunks(items: Iterable[tuple[Patient, Sequence[Specimen]]], size: int) -> Iterator[_Batch]:
    batch: _Batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _seal_in_worker(encoded: bytes) -> bytes:
    """Runs in a forked worker: keys come from the inherited session, never a pipe."""
    assert _FORKED is not None
    vault, writers = _FORKED
    return pickle.dumps(vault._seal_prepared(_plain_decoder.decode(encoded), writers))


def _sealed_in_workers(
    vault: Vault, writers: _Writers, batches: Iterator[list[_Plain]], workers: int
) -> Iterator[_Ready]:
    """Sealed batches in input order, at most 2 per worker in flight (bounded memory)."""
    global _FORKED
    _FORKED = (vault, writers)
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[Future[bytes]] = deque()
            for batch in batches:
                pending.append(pool.submit(_seal_in_worker, _plain_encoder.encode(batch)))
                if len(pending) >= 2 * workers:
                    yield pickle.loads(pending.popleft().result())  # noqa: S301 (our own child)
            while pending:
                yield pickle.loads(pending.popleft().result())  # noqa: S301 (our own child)
    finally:
        _FORKED = None


@dataclass(frozen=True, slots=True)
class _Ready:
    """A sealed batch as the driver takes it, and what the revision log keeps of it."""

    count: int
    patients: list[Any]
    index: list[Any]
    specimens: list[Any]
    logged: WriteBatch | None


class _Writers:
    """Compiled bulk inserts of the three tables a patient write touches."""

    def __init__(self, conn: Connection) -> None:
        self.patients = BulkInsert(
            conn, patients, [c.name for c in patients.c if c.name != "merged_into"]
        )
        self.index = BulkInsert(conn, patient_index, [c.name for c in patient_index.c])
        self.specimens = BulkInsert(conn, specimens, [c.name for c in specimens.c])

    def prepare(
        self,
        p_rows: list[dict[str, Any]],
        i_rows: list[dict[str, Any]],
        s_rows: list[dict[str, Any]],
        logged: WriteBatch | None,
    ) -> _Ready:
        return _Ready(
            len(p_rows),
            self.patients.prepare(p_rows),
            self.index.prepare(i_rows),
            self.specimens.prepare(s_rows),
            logged,
        )

    def write(self, conn: Connection, ready: _Ready) -> None:
        self.patients.write(conn, ready.patients)
        self.index.write(conn, ready.index)
        self.specimens.write(conn, ready.specimens)


def _key_row(item: WrappedKey) -> dict[str, Any]:
    return {
        "owner": item.owner,
        "purpose": item.purpose,
        "version": item.version,
        "kek_id": item.kek_id,
        "wrapped": item.wrapped,
        "created_at": _now(),
    }


def _wrapped(row: Row[Any]) -> WrappedKey:
    return WrappedKey(row.owner, row.purpose, row.version, row.kek_id, row.wrapped)


def _check_schema(conn: Connection, location: VaultLocation) -> None:
    current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    if current is None:
        raise VaultNotFound(f"vault {location.describe()}: no Étanche schema (run `etanche init`)")
    if current != head:
        known = {
            s.revision for s in ScriptDirectory.from_config(_alembic_config(conn)).walk_revisions()
        }
        hint = " (run `etanche upgrade`)" if current in known else " (a newer program made it)"
        raise SchemaError(
            f"vault {location.describe()}: schema revision {current}, this program expects "
            f"{head}{hint}"
        )
