"""Tables of people, sessions and API tokens.

Staff identities (user name, full name) are in clear: they are shown in audit
views and are not patient data. Secrets are never stored in clear: passwords as
argon2id hashes, session and API tokens as SHA-256 hashes of random tokens,
TOTP seeds sealed by a vault system key.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("labs", Text, nullable=False),  # comma-separated lab ids
    Column("password_hash", String(200), nullable=False),
    Column("totp_secret", LargeBinary, nullable=True),  # sealed
    Column("totp_enrolled_at", DateTime(timezone=True), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),  # last accepted step: no replay
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(32), nullable=True),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("rpps", String(11), nullable=True),  # health professionals' national number
    Column("approved_at", DateTime(timezone=True), nullable=True),  # None: awaits approval
    # grammatical gender of the role's label ("F" Déléguée, "M" Délégué, None both forms)
    Column("gender", String(1), nullable=True),
)

# A privileged account, or a privileged role given to an account, waits here for a
# second person's approval; the decision stays as the record of who approved.
account_requests = Table(
    "account_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # "create" or "role"
    Column("role", String(32), nullable=False),
    Column("labs", Text, nullable=False),
    Column("rpps", String(11), nullable=True),
    Column("requested_by", String(32), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decision", String(16), nullable=True),  # None (pending), approved, refused
    Column("decided_by", String(32), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("custodians", Text, nullable=True),  # the quorum that approved a first DPO
    Index("ix_account_requests_user", "user_id", "decision"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # "cli" or "web"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("client", String(64), nullable=True),
    Column("break_glass_reason", Text, nullable=True),
    Column("break_glass_until", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", LargeBinary, nullable=False, unique=True),
    Column("scopes", Text, nullable=False),  # space-separated actions
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)
