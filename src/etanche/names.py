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
    IDENTITY_OFFICER = "identity_officer"  # identity vigilance: statuses, merges, own labs


class Action(StrEnum):
    # patient data
    PATIENT_SEARCH = "patient.search"
    PATIENT_READ = "patient.read"
    PATIENT_CREATE = "patient.create"
    PATIENT_UPDATE = "patient.update"
    PATIENT_ERASE = "patient.erase"
    PATIENT_LINK = "patient.link"  # a local record bound to a network identity known elsewhere
    CLINICAL_UPDATE = "clinical.update"  # the clinical part of a record (biologists)
    SPECIMEN_CREATE = "specimen.create"
    SPECIMEN_LIST = "specimen.list"
    # identity vigilance (RNIV): statuses of the INS and merges of duplicate records
    IDENTITY_VALIDATE = "identity.validate"  # high-trust document checked at the desk
    IDENTITY_RETRIEVE = "identity.retrieve_ins"  # an INSi result entered
    IDENTITY_QUALIFY = "identity.qualify"
    IDENTITY_DOWNGRADE = "identity.downgrade"
    IDENTITY_RESTORE = "identity.restore"
    IDENTITY_REVIEW = "identity.review"  # a pair of records compared, masked until revealed
    IDENTITY_MERGE = "identity.merge"  # asking for, approving and doing a merge
    IDENTITY_UNMERGE = "identity.unmerge"
    SPECIMEN_LABEL = "specimen.label"  # a tube label: identity and accession on paper
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
    BACKUP_CREATE = "backup.create"  # an encrypted copy of the vault, keyed by custody
    BACKUP_DRILL = "backup.drill"  # restore into a scratch location, verify, delete
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
    VAULT_REINDEX = "vault.reindex"  # backfill of the front-desk search indexes
    REGISTER_READ = "register.read"  # the register of processing (GDPR art. 30)
    # patients' rights requests (GDPR art. 12 and 15-21), the DPO's workflow
    RIGHTS_READ = "rights.read"  # list and open requests
    RIGHTS_ADD = "rights.add"  # register a request
    RIGHTS_LOOKUP = "rights.lookup"  # find the requester's records: lab and id only
    RIGHTS_VERIFY = "rights.verify"  # record the requester's identity check
    RIGHTS_LINK = "rights.link"  # attach the patient record a request is about
    RIGHTS_EXTEND = "rights.extend"  # the one extension by two months (art. 12(3))
    RIGHTS_CLOSE = "rights.close"  # answer: granted or refused with a reason
    RIGHTS_ERASE = "rights.erase"  # the erasure that answers a granted request (art. 17)
    RIGHTS_LIFT = "rights.lift"  # lift a restriction of processing (art. 18)
    RIGHTS_CHECK = "rights.check"  # deadlines checked against the audit log
    RETENTION_PURGE = "retention.purge"  # shred what the retention rules say has expired
    RETENTION_HOLD = "retention.hold"  # set or lift a legal hold (the purge keeps the patient)
    # patients' rights
    RIGHTS_ACCESS_REPORT = "rights.access_report"  # art. 15 copy with who opened the record
    # identity vigilance
    IDENTITY_LINK = "identity.link"  # duplicate linkage: decrypts identities in the service
    IDENTITY_PAIRS = "identity.pairs"  # the queue of candidate pairs (ids and codes only)
    # authentication events (logged, not decided by the policy)
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    BREAK_GLASS = "auth.break_glass"
    KEY_OPERATION = "keys.operation"
    CUSTODY_UNSEAL = "custody.unseal"
    VAULT_WRITE = "vault.write"  # revisions and ciphertext hashes of committed writes
    CUSTODY_APPROVE = "custody.approve"
    BACKUP_RESTORE = "backup.restore"  # a backup restored by the custodians' quorum
    RIGHTS_OVERDUE = "rights.overdue"  # a request past its deadline (the check's finding)


IDENTITY_ACTIONS = frozenset(
    {
        Action.IDENTITY_VALIDATE,
        Action.IDENTITY_RETRIEVE,
        Action.IDENTITY_QUALIFY,
        Action.IDENTITY_DOWNGRADE,
        Action.IDENTITY_RESTORE,
        Action.IDENTITY_REVIEW,
        Action.IDENTITY_MERGE,
        Action.IDENTITY_UNMERGE,
    }
)

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
        Action.SPECIMEN_LABEL,
    }
)
