"""The one exception hierarchy of Étanche.

Every error a person can meet names the field, line or record concerned and the
reason, and never carries a personal value: messages end up in logs and on
terminals. The CLI maps each branch to a documented exit code (``EXIT_CODES``).

    EtancheError
    ├── UsageError                 bad arguments or configuration          (exit 2)
    │   └── ConfigError            a configuration file names a bad entry
    ├── ValidationError            one field of one record is invalid      (exit 3)
    │   ├── ValidationErrors       several problems, each a ValidationError
    │   └── DuplicateUnconfirmed   the identity is already known; no confirmation given
    ├── VaultError                 the store itself                        (exit 4)
    │   ├── VaultNotFound          no vault at the given location
    │   ├── VaultExists            init over an existing vault
    │   ├── RecordNotFound         no record with that id (or it was erased)
    │   └── SchemaError            database schema missing or too new
    ├── CryptoError                keys and ciphertexts                    (exit 5)
    │   ├── WrongPassphrase        the key file does not open with it
    │   ├── IntegrityError         a ciphertext was altered or moved
    │   ├── KeyNotFound            a key (version) is missing or shredded
    │   ├── KeyProviderError       the KEK provider failed
    │   └── WrongShares            custodians' shares do not open the custody
    ├── SourceError                a file being read is malformed          (exit 6)
    ├── MigrationError             a migration plan or package refused     (exit 8)
    │   ├── PlanNotApproved        missing approvals, or changed since approval
    │   ├── PackageRejected        signature, hash or count does not match
    │   └── ArtefactExpired        the plan's retention date has passed
    ├── AccessError                who may do what                         (exit 7)
    │   ├── AuthenticationFailed   wrong user name, password or TOTP code
    │   │   ├── EnrolmentRequired  password right, TOTP not enrolled yet
    │   │   └── AccountLocked      too many failures (answered as a wrong password)
    │   ├── PermissionDenied       the policy refused the action
    │   └── SessionExpired         session or token expired, revoked or unknown
    └── ServiceError               the service cannot be reached or used   (exit 9)
        ├── ServiceUnavailable     not running, not listening, or answered nonsense
        └── ServiceSealed          running but sealed: custodians must unseal it
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "EXIT_CODES",
    "AccessError",
    "AccountLocked",
    "ArtefactExpired",
    "AuthenticationFailed",
    "CryptoError",
    "DuplicateUnconfirmed",
    "EnrolmentRequired",
    "EtancheError",
    "IntegrityError",
    "KeyNotFound",
    "KeyProviderError",
    "MigrationError",
    "PackageRejected",
    "PermissionDenied",
    "PlanNotApproved",
    "RecordNotFound",
    "SchemaError",
    "ServiceError",
    "ServiceSealed",
    "ServiceUnavailable",
    "SessionExpired",
    "SourceError",
    "UsageError",
    "ValidationError",
    "ValidationErrors",
    "VaultError",
    "VaultExists",
    "VaultNotFound",
    "WrongPassphrase",
    "WrongShares",
    "exit_code_for",
]


class EtancheError(Exception):
    """Root of every error Étanche raises on purpose."""


class UsageError(EtancheError):
    """Bad arguments, environment or configuration."""


class ConfigError(UsageError):
    """A configuration file (alert rules, sinks) is invalid.

    The message names the file, the entry (``rule bulk_reads``, ``sink 2``) and
    the field, so the person fixing it does not have to guess.
    """

    def __init__(self, source: str, entry: str | None, field: str | None, reason: str) -> None:
        self.source = source
        self.entry = entry
        self.field = field
        self.reason = reason
        parts = [p for p in (source, entry, field) if p]
        super().__init__(": ".join([*parts, reason]))


class ValidationError(EtancheError):
    """One field is invalid: ``field`` says which, ``reason`` says why.

    ``record`` optionally names the record (a pseudonymous id or a line number),
    never a personal value.
    """

    def __init__(self, field: str, reason: str, record: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.record = record
        where = f"{record}: " if record else ""
        super().__init__(f"{where}{field}: {reason}")

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str, str | None]]:
        """Picklable with its fields (bulk loads validate in worker processes)."""
        return (type(self), (self.field, self.reason, self.record))


class ValidationErrors(ValidationError):
    """Several validation problems found at once, one per field."""

    def __init__(self, errors: Iterable[ValidationError]) -> None:
        self.errors: Sequence[ValidationError] = tuple(errors)
        if not self.errors:
            raise ValueError("ValidationErrors needs at least one error")
        first = self.errors[0]
        EtancheError.__init__(self, "; ".join(str(e) for e in self.errors))
        self.field = first.field
        self.reason = first.reason
        self.record = first.record

    def __reduce__(self) -> tuple[type[ValidationErrors], tuple[list[ValidationError]]]:  # type: ignore[override]
        return (type(self), (list(self.errors),))


class DuplicateUnconfirmed(ValidationError):
    """The identity is already known here or in another lab of the network; a second
    record needs an explicit confirmation with a reason. Says how many, never whose."""


class VaultError(EtancheError):
    """The encrypted store cannot do what was asked."""


class VaultNotFound(VaultError):
    """No vault exists at the given location."""


class VaultExists(VaultError):
    """A vault already exists where a new one was to be created."""


class RecordNotFound(VaultError):
    """No record with that id, or the record was erased."""


class SchemaError(VaultError):
    """The database schema is missing, partial or newer than this program."""


class CryptoError(EtancheError):
    """A key or ciphertext problem."""


class WrongPassphrase(CryptoError):
    """The key file cannot be opened with the given passphrase."""


class IntegrityError(CryptoError):
    """A ciphertext failed authentication: altered, truncated or moved."""


class KeyNotFound(CryptoError):
    """A key or key version is missing, retired or shredded."""


class KeyProviderError(CryptoError):
    """The key-encryption-key provider failed or is misconfigured."""


class WrongShares(CryptoError):
    """The custodians' shares combine to a secret that does not open the custody.

    One of them is forged, damaged or from an older sharing; the message never
    says which, and never carries share bytes.
    """


class SourceError(EtancheError):
    """A file being read is malformed; the message names the line."""


class MigrationError(EtancheError):
    """A migration step refused: the message names the plan, package or file and why."""


class PlanNotApproved(MigrationError):
    """The plan has not both approvals, or its content changed since it was approved."""


class PackageRejected(MigrationError):
    """A package or its manifest fails its signature, a content hash or a count."""


class ArtefactExpired(MigrationError):
    """The retention date of the plan has passed: its artefacts are shredded, not used."""


class AccessError(EtancheError):
    """Authentication or authorisation refused; never says which secret was wrong."""


class AuthenticationFailed(AccessError):
    """User name, password or TOTP code wrong (one message for all, against probing)."""


class EnrolmentRequired(AuthenticationFailed):
    """The password was right but the account has no confirmed TOTP yet."""


class AccountLocked(AuthenticationFailed):
    """Too many failed logins: locked for a while (progressive). Audited under its own
    name, answered as a plain AuthenticationFailed so a probe cannot tell."""


class PermissionDenied(AccessError):
    """The policy refused an action; the message carries the policy's reason."""


class SessionExpired(AccessError):
    """The session or API token is unknown, expired, revoked or its account disabled."""


class ServiceError(EtancheError):
    """The service, the one process holding keys, cannot do what its client asked."""


class ServiceUnavailable(ServiceError):
    """No service answers at the configured address, or it answered nonsense."""


class ServiceSealed(ServiceError):
    """The service runs but holds no key yet: its custodians must unseal it."""


EXIT_CODES: dict[type[EtancheError], int] = {
    UsageError: 2,
    ValidationError: 3,
    VaultError: 4,
    CryptoError: 5,
    SourceError: 6,
    AccessError: 7,
    MigrationError: 8,
    ServiceError: 9,
}


def exit_code_for(error: EtancheError) -> int:
    """Exit code of the nearest documented branch; 1 for anything else."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
