"""Every action the policy decides, and the roles it decides them for.

Shared by the server and its clients (the CLI names roles and scopes without
loading the access room), so it imports nothing.

Action values are also the ``action`` of audit events, so a denial and a success
of the same thing read alike in the log.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RECEPTION = "reception"  # admin compartment, own labs
    BIOLOGIST = "biologist"  # admin + clinical, own labs
    LAB_ADMIN = "lab_admin"  # users of own labs, no patient data
    DPO = "dpo"  # audit, alerts, incidents, no patient data
    MIGRATION_OPERATOR = "migration_operator"  # plans and exports, no browsing
    AUDITOR = "auditor"  # verifies the log


class Action(StrEnum):
    # patient data
    PATIENT_SEARCH = "patient.search"
    PATIENT_READ = "patient.read"
    PATIENT_CREATE = "patient.create"
    PATIENT_UPDATE = "patient.update"
    PATIENT_ERASE = "patient.erase"
    PATIENT_LINK = "patient.link"  # a local record bound to a network identity known elsewhere
    SPECIMEN_CREATE = "specimen.create"
    SPECIMEN_LIST = "specimen.list"
    # bulk outputs
    EXPORT_CREATE = "export.create"
    MIGRATION_PLAN = "migration.plan"
    MIGRATION_RUN = "migration.run"
    MIGRATION_APPROVE = "migration.approve"
    MIGRATION_IMPORT = "migration.import"
    MIGRATION_CLOSE = "migration.close"
    # administration
    USER_MANAGE = "user.manage"
    USER_APPROVE = "user.approve"  # second person on a privileged account or role
    TOKEN_MANAGE = "token.manage"  # noqa: S105 (an action name, not a secret)
    KEYS_ROTATE = "keys.rotate"
    LAB_MANAGE = "lab.manage"
    # supervision
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    ALERT_READ = "alert.read"
    ALERT_ACK = "alert.ack"
    DECOY_MANAGE = "decoy.manage"
    INCIDENT_MANAGE = "incident.manage"
    INCIDENT_NOTIFY = "incident.notify"  # letters to patients: reads their identity
    LEAK_SCAN = "leak.scan"
    LEAK_TRACE = "leak.trace"
    VAULT_VERIFY = "vault.verify"  # stored ciphertexts against their logged writes
    REGISTER_READ = "register.read"  # the register of processing (GDPR art. 30)
    # authentication events (logged, not decided by the policy)
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    BREAK_GLASS = "auth.break_glass"
    KEY_OPERATION = "keys.operation"
    CUSTODY_UNSEAL = "custody.unseal"
    VAULT_WRITE = "vault.write"  # revisions and ciphertext hashes of committed writes
    CUSTODY_APPROVE = "custody.approve"


PATIENT_ACTIONS = frozenset(
    {
        Action.PATIENT_SEARCH,
        Action.PATIENT_READ,
        Action.PATIENT_CREATE,
        Action.PATIENT_UPDATE,
        Action.PATIENT_ERASE,
        Action.PATIENT_LINK,
        Action.SPECIMEN_CREATE,
        Action.SPECIMEN_LIST,
    }
)
