"""What each role may do: one table, checked in one place (`role_can`)."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ANALYST = "analyst", "Analyst"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    VIEWER = "viewer", "Viewer"


class Perm(models.TextChoices):
    VIEW = "view", "See datasets, analyses and results"
    MANAGE_DATASETS = "manage_datasets", "Upload, generate, edit and delete datasets"
    RUN_ANALYSES = "run_analyses", "Run, cancel and delete analyses"
    PREDICT = "predict", "Score customers with a fitted model"
    EXPORT = "export", "Download exports and reports"
    MANAGE_MEMBERS = "manage_members", "Invite members and change roles"
    MANAGE_API_KEYS = "manage_api_keys", "Create and revoke API keys"
    VIEW_AUDIT_LOG = "view_audit_log", "See the audit log"


_ALL = set(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_ALL),
    Role.ADMIN: frozenset(_ALL),
    Role.ANALYST: frozenset({Perm.VIEW, Perm.MANAGE_DATASETS, Perm.RUN_ANALYSES, Perm.PREDICT, Perm.EXPORT}),
    Role.ACCOUNT_MANAGER: frozenset({Perm.VIEW, Perm.PREDICT, Perm.EXPORT}),
    Role.VIEWER: frozenset({Perm.VIEW}),
}

# API key scopes map onto the same permissions.
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({Perm.VIEW}),
    "write": frozenset({Perm.VIEW, Perm.MANAGE_DATASETS, Perm.RUN_ANALYSES}),
    "predict": frozenset({Perm.PREDICT}),
    "export": frozenset({Perm.EXPORT}),
}
API_SCOPES = tuple(SCOPE_PERMISSIONS)

# Who may start (and so cancel) each kind of background job: the kind's prefix ("analysis.run" -> "analysis").
JOB_PERMISSIONS: dict[str, str] = {
    "analysis": Perm.RUN_ANALYSES,
    "export": Perm.EXPORT,
    "datasets": Perm.MANAGE_DATASETS,
    "monitoring": Perm.MANAGE_DATASETS,
}


def job_permission(kind: str) -> str:
    """The permission a job of `kind` needs to be cancelled. A kind without an entry is refused a rule: adding a job
    kind means adding its line here (a test walks every registered kind)."""
    return JOB_PERMISSIONS[kind.split(".")[0]]


def role_can(role: str | None, perm: str) -> bool:
    return role is not None and perm in ROLE_PERMISSIONS.get(role, frozenset())


def scopes_can(scopes, perm: str) -> bool:
    return any(perm in SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in scopes or ())


def roles_assignable_by(role: str | None) -> list[str]:
    """Owners may grant any role; admins any role but owner; nobody else any."""
    if role == Role.OWNER:
        return [r.value for r in Role]
    if role == Role.ADMIN:
        return [r.value for r in Role if r != Role.OWNER]
    return []
