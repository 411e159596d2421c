"""C2SP signed notes: checkpoints, verifier keys and witness cosignatures, byte for byte.

Written to c2sp.org/signed-note, tlog-checkpoint and tlog-cosignature so that
existing witness software (transparency-dev, litewitness) can cosign our log
and any C2SP verifier can check what our witnesses signed:

- a checkpoint body is ``<origin>\\n<size>\\n<base64 root>\\n``;
- a note signature line is ``— <name> <base64(key ID || signature)>\\n``, the
  key ID being SHA-256(name || 0x0A || type || public key)[:4];
- the log signs the body with Ed25519 (type 0x01); a witness cosigns
  ``cosignature/v1\\ntime <unix>\\n`` + body (type 0x04) and its signature bytes
  are the 8-byte big-endian time followed by the Ed25519 signature;
- a verifier key (vkey) is ``<name>+<hex key ID>+<base64(type || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

from etanche.crypto import HASH_SIZE, Signer, Verifier, note_key_hash
from etanche.errors import IntegrityError, SourceError

ED25519 = 0x01  # a log's checkpoint signature
COSIGNATURE_V1 = 0x04  # a witness's timestamped Ed25519 cosignature
DASH = "\u2014"
ORIGIN_PREFIX = "etanche.invalid/audit/"
_SIGNATURE_BYTES = 64
_MAX_TIME = 2**63 - 1
_MAX_SIGNATURES = 64


def log_origin(key_id: str) -> str:
    """The log's origin and key name: one per log key, so a new key is a new log."""
    return ORIGIN_PREFIX + key_id


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SourceError(f"{what}: not base64") from None


def _check_name(name: str, what: str) -> str:
    if not name or any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name):
        raise SourceError(f"{what}: a key name is non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A verifier key: name, 4-byte key ID, signature type and Ed25519 public key."""

    name: str
    key_hash: bytes
    kind: int
    public: bytes

    @classmethod
    def of(cls, name: str, kind: int, public: bytes) -> NoteKey:
        _check_name(name, "verifier key")
        return cls(name, note_key_hash(name, kind, public), kind, public)

    @classmethod
    def for_signer(cls, name: str, kind: int, signer: Signer) -> NoteKey:
        return cls.of(name, kind, signer.public_bytes())

    @classmethod
    def parse(cls, text: str, what: str = "verifier key") -> NoteKey:
        """Parse ``name+hex+base64``; SourceError unless the key ID matches the key."""
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise SourceError(f"{what}: expected <name>+<hex key ID>+<base64 key>")
        name, hex_id, encoded = parts
        _check_name(name, what)
        try:
            key_hash = bytes.fromhex(hex_id)
        except ValueError:
            raise SourceError(f"{what}: key ID is not hexadecimal") from None
        raw = _unb64(encoded, what)
        if len(key_hash) != 4 or len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise SourceError(f"{what}: expected an Ed25519 key of type 0x01 or 0x04")
        key = cls.of(name, raw[0], raw[1:])
        if key.key_hash != key_hash:
            raise SourceError(f"{what}: key ID does not match the name and key")
        return key

    def text(self) -> str:
        return f"{self.name}+{self.key_hash.hex()}+{_b64(bytes([self.kind]) + self.public)}"

    def verifier(self) -> Verifier:
        return Verifier.from_public_bytes(self.public)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: who (name and key ID) and the signature bytes after the ID."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {_b64(self.key_hash + self.signature)}\n"

    @classmethod
    def parse(cls, line: str) -> NoteSignature:
        prefix = DASH + " "
        if not line.startswith(prefix):
            raise SourceError("signature line: expected '\u2014 <name> <base64>'")
        parts = line[len(prefix) :].rstrip("\n").split(" ")
        if len(parts) != 2:
            raise SourceError("signature line: expected a key name and a base64 signature")
        raw = _unb64(parts[1], "signature line")
        if len(raw) < 5:
            raise SourceError("signature line: too short")
        return cls(_check_name(parts[0], "signature line"), raw[:4], raw[4:])

    def matches(self, key: NoteKey) -> bool:
        return self.name == key.name and self.key_hash == key.key_hash

    @property
    def timestamp(self) -> int | None:
        """A cosignature's time (POSIX seconds), when the bytes have the cosignature shape."""
        if len(self.signature) != 8 + _SIGNATURE_BYTES:
            return None
        return int.from_bytes(self.signature[:8], "big")


def parse_signatures(text: str) -> list[NoteSignature]:
    """Signature lines (a witness's answer); SourceError on a malformed one."""
    lines = [line for line in text.split("\n") if line]
    if len(lines) > _MAX_SIGNATURES:
        raise SourceError(f"signatures: more than {_MAX_SIGNATURES}")
    return [NoteSignature.parse(line) for line in lines]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log's size and root under its origin (tlog-checkpoint)."""

    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        root = _b64(self.root)
        return f"{self.origin}\n{self.size}\n{root}\n".encode()

    @classmethod
    def parse_body(cls, body: bytes) -> Checkpoint:
        """Parse a note text; extension lines are refused (our log never writes them)."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError("checkpoint: not UTF-8") from None
        if any(ord(c) < 0x20 and c != "\n" for c in text) or not text.endswith("\n"):
            raise SourceError("checkpoint: control characters, or no final newline")
        lines = text[:-1].split("\n")
        if len(lines) != 3 or not lines[0]:
            raise SourceError("checkpoint: expected origin, size and root lines only")
        origin, size, root = lines
        if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
            raise SourceError("checkpoint: size is not a decimal without leading zeroes")
        digest = _unb64(root, "checkpoint root")
        if len(digest) != HASH_SIZE:
            raise SourceError("checkpoint: root is not a SHA-256 hash")
        return cls(origin, int(size), digest)

    def sign(self, signer: Signer) -> NoteSignature:
        """The log's Ed25519 note signature (type 0x01), named by the origin."""
        key = NoteKey.for_signer(self.origin, ED25519, signer)
        return NoteSignature(key.name, key.key_hash, signer.sign(self.body()))

    def note(self, signatures: list[NoteSignature]) -> str:
        return self.body().decode() + "\n" + "".join(s.line() for s in signatures)

    def verify_log_signature(self, key: NoteKey, signatures: list[NoteSignature]) -> None:
        """IntegrityError unless a signature of ``key`` on this checkpoint verifies."""
        if key.name != self.origin:
            raise IntegrityError(f"checkpoint {self.size}: origin is not the pinned log's")
        for signature in signatures:
            if signature.matches(key):
                try:
                    key.verifier().verify(self.body(), signature.signature)
                except IntegrityError:
                    raise IntegrityError(
                        f"checkpoint {self.size}: log signature does not verify"
                    ) from None
                return
        raise IntegrityError(f"checkpoint {self.size}: not signed by the pinned log key")

    def cosign(self, signer: Signer, name: str, timestamp: int) -> NoteSignature:
        """A witness's cosignature/v1 at ``timestamp`` (POSIX seconds)."""
        key = NoteKey.for_signer(name, COSIGNATURE_V1, signer)
        signature = signer.sign(cosigned_message(self.body(), timestamp))
        return NoteSignature(name, key.key_hash, timestamp.to_bytes(8, "big") + signature)

    def cosigned_at(self, key: NoteKey, signature: NoteSignature) -> int:
        """The time of a valid cosignature by ``key``; IntegrityError if it does not verify."""
        stamp = signature.timestamp
        if key.kind != COSIGNATURE_V1 or not signature.matches(key) or stamp is None:
            raise IntegrityError(f"checkpoint {self.size}: not a cosignature of {key.name}")
        try:
            key.verifier().verify(cosigned_message(self.body(), stamp), signature.signature[8:])
        except IntegrityError:
            raise IntegrityError(
                f"checkpoint {self.size}: cosignature of {key.name} does not verify"
            ) from None
        return stamp


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the whole note body."""
    if not 0 <= timestamp <= _MAX_TIME:
        raise IntegrityError("cosignature: time out of range")
    return b"cosignature/v1\ntime " + str(timestamp).encode("ascii") + b"\n" + body


def split_note(text: str) -> tuple[bytes, list[NoteSignature]]:
    """A signed note's text (with its final newline) and its signature lines."""
    cut = text.rfind("\n\n")
    if cut < 0:
        raise SourceError("note: no blank line before the signatures")
    return text[: cut + 1].encode("utf-8"), parse_signatures(text[cut + 2 :])


def read_keys(path: str | Path, what: str) -> list[tuple[NoteKey, str | None]]:
    """A key list file: one ``<vkey> [url]`` per line, ``#`` comments (pinned witnesses)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{source.name}: cannot read ({type(exc).__name__})") from None
    found: list[tuple[NoteKey, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2:
            raise SourceError(f"{source.name} line {number}: expected <vkey> [url]")
        key = NoteKey.parse(words[0], f"{source.name} line {number}")
        found.append((key, words[1] if len(words) == 2 else None))
    if not found:
        raise SourceError(f"{source.name}: no {what} key in the file")
    names = [key.name for key, _ in found]
    if len(set(names)) != len(names):
        raise SourceError(f"{source.name}: a {what} is listed twice")
    return found
