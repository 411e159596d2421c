"""People, authentication and the one policy function (DESIGN.md, findings F6 and F7).

Every account belongs to one named person and needs a password and a TOTP code;
a privileged account or role waits for a second person's approval; sessions and
API tokens are opaque random tokens stored hashed; ``can`` decides
every action for CLI, API and web alike, and ``compartments_for`` bounds the keys
a session may unwrap.
"""

from etanche.access._accounts import (
    GENERIC_NAMES,
    Accounts,
    LockoutPolicy,
    check_full_name,
    check_gender,
    check_labs,
    check_username,
    validate_account,
)
from etanche.access._approvals import Approvals, Verdict, approval_decision
from etanche.access._passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Passwords,
    check_password_policy,
    default_hasher,
)
from etanche.access._policy import (
    NETWORK_ROLES,
    NETWORK_WIDE,
    RESTRICTED_REFUSED,
    RIGHTS_ACTIONS,
    Actor,
    BreakGlass,
    Decision,
    Resource,
    can,
    compartments_for,
    role_actions,
    scopes_cover,
)
from etanche.access._requests import (
    LAB_ROLES,
    PRIVILEGED_ROLES,
    AccountRequest,
    check_rpps,
    is_lab_request,
    needs_approval,
)
from etanche.access._sessions import BREAK_GLASS_MIN_REASON, Session, SessionPolicy, Sessions
from etanche.access._tokens import MAX_TOKEN_DAYS, ApiTokens, TokenInfo
from etanche.access._totp import ISSUER, Totp, current_code, provisioning_uri
from etanche.access._user import User
from etanche.names import PATIENT_ACTIONS, Action, Role

__all__ = [
    "BREAK_GLASS_MIN_REASON",
    "GENERIC_NAMES",
    "ISSUER",
    "LAB_ROLES",
    "MAX_PASSWORD_LENGTH",
    "MAX_TOKEN_DAYS",
    "MIN_PASSWORD_LENGTH",
    "NETWORK_ROLES",
    "NETWORK_WIDE",
    "PATIENT_ACTIONS",
    "PRIVILEGED_ROLES",
    "RESTRICTED_REFUSED",
    "RIGHTS_ACTIONS",
    "AccountRequest",
    "Accounts",
    "Action",
    "Actor",
    "ApiTokens",
    "Approvals",
    "BreakGlass",
    "Decision",
    "LockoutPolicy",
    "Passwords",
    "Resource",
    "Role",
    "Session",
    "SessionPolicy",
    "Sessions",
    "TokenInfo",
    "Totp",
    "User",
    "Verdict",
    "approval_decision",
    "can",
    "check_full_name",
    "check_gender",
    "check_labs",
    "check_password_policy",
    "check_rpps",
    "check_username",
    "compartments_for",
    "current_code",
    "default_hasher",
    "is_lab_request",
    "needs_approval",
    "provisioning_uri",
    "role_actions",
    "scopes_cover",
    "validate_account",
]
