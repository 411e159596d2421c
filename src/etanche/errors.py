"""The one exception hierarchy of Étanche.

Every error a person can meet names the field, line or record concerned and the
reason, and never carries a personal value: messages end up in logs and on
terminals. The CLI maps each branch to a documented exit code (``EXIT_CODES``).

    EtancheError
    ├── UsageError                 bad arguments or configuration          (exit 2)
    ├── ValidationError            one field of one record is invalid      (exit 3)
    │   └── ValidationErrors       several problems, each a ValidationError
    ├── VaultError                 the store itself                        (exit 4)
    │   ├── VaultNotFound          no vault at the given location
    │   ├── VaultExists            init over an existing vault
    │   ├── RecordNotFound         no record with that id (or it was erased)
    │   └── SchemaError            database schema missing or too new
    ├── CryptoError                keys and ciphertexts                    (exit 5)
    │   ├── WrongPassphrase        the key file does not open with it
    │   ├── IntegrityError         a ciphertext was altered or moved
    │   ├── KeyNotFound            a key (version) is missing or shredded
    │   └── KeyProviderError       the KEK provider failed
    └── SourceError                a file being read is malformed          (exit 6)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "EXIT_CODES",
    "CryptoError",
    "EtancheError",
    "IntegrityError",
    "KeyNotFound",
    "KeyProviderError",
    "RecordNotFound",
    "SchemaError",
    "SourceError",
    "UsageError",
    "ValidationError",
    "ValidationErrors",
    "VaultError",
    "VaultExists",
    "VaultNotFound",
    "WrongPassphrase",
    "exit_code_for",
]


class EtancheError(Exception):
    """Root of every error Étanche raises on purpose."""


class UsageError(EtancheError):
    """Bad arguments, environment or configuration."""


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


class SourceError(EtancheError):
    """A file being read is malformed; the message names the line."""


EXIT_CODES: dict[type[EtancheError], int] = {
    UsageError: 2,
    ValidationError: 3,
    VaultError: 4,
    CryptoError: 5,
    SourceError: 6,
}


def exit_code_for(error: EtancheError) -> int:
    """Exit code of the nearest documented branch; 1 for anything else."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
