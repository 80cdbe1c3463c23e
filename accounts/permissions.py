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
    MANAGE_WEBHOOKS = "manage_webhooks", "Register webhook endpoints and see their deliveries"
    VIEW_AUDIT_LOG = "view_audit_log", "See the audit log"
    MANAGE_ORGANIZATION = "manage_organization", "Change the organization's settings, take its data out, delete it"
    # a person's own account (delete it): every role has it; no API key scope does (a key is no person)
    OWN_ACCOUNT = "own_account", "Delete one's own account"


_ALL = set(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_ALL),
    Role.ADMIN: frozenset(_ALL - {Perm.MANAGE_ORGANIZATION}),  # settings, archive and deletion: owners only
    Role.ANALYST: frozenset(
        {Perm.VIEW, Perm.MANAGE_DATASETS, Perm.RUN_ANALYSES, Perm.PREDICT, Perm.EXPORT, Perm.OWN_ACCOUNT}
    ),
    Role.ACCOUNT_MANAGER: frozenset({Perm.VIEW, Perm.PREDICT, Perm.EXPORT, Perm.OWN_ACCOUNT}),
    Role.VIEWER: frozenset({Perm.VIEW, Perm.OWN_ACCOUNT}),
}

# API key scopes map onto the same permissions.
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({Perm.VIEW}),
    "write": frozenset({Perm.VIEW, Perm.MANAGE_DATASETS, Perm.RUN_ANALYSES}),
    "predict": frozenset({Perm.PREDICT}),
    "export": frozenset({Perm.EXPORT}),
    "webhooks": frozenset({Perm.MANAGE_WEBHOOKS}),  # a partner's own endpoints and their delivery log
}
API_SCOPES = tuple(SCOPE_PERMISSIONS)
# What each scope lets a key do, as the API keys page says it.
API_SCOPE_LABELS: dict[str, str] = {
    "read": "read: datasets, analyses, segments and customers",
    "write": "write: upload datasets and run analyses",
    "predict": "predict: score customers with predict_segment",
    "export": "export: download reports and exports",
    "webhooks": "webhooks: register endpoints and read their delivery log",
}

# Who may start (and so cancel) each kind of background job: the kind's prefix ("analysis.run" -> "analysis").
JOB_PERMISSIONS: dict[str, str] = {
    "analysis": Perm.RUN_ANALYSES,
    "export": Perm.EXPORT,
    "datasets": Perm.MANAGE_DATASETS,
    "monitoring": Perm.MANAGE_DATASETS,
    "organization": Perm.MANAGE_ORGANIZATION,
}


# Every page action (URL name, HTTP method) and the permission it needs. The views enforce it (`org_required`,
# `require`); tests/security/test_roles_table.py requests each as every role and expects exactly what
# ROLE_PERMISSIONS says, and fails for a page action missing here. (The API's actions are the viewsets'
# `perms_by_action`, checked the same way against SCOPE_PERMISSIONS; `accounts/api_leaving.py` holds the API's
# organization archive, deletion and own-account actions, under MANAGE_ORGANIZATION and OWN_ACCOUNT.)
PAGE_ACTIONS: dict[tuple[str, str], str] = {
    ("home", "GET"): Perm.VIEW,
    ("api_quickstart", "GET"): Perm.VIEW,
    ("accounts:members", "GET"): Perm.VIEW,
    ("accounts:members", "POST"): Perm.MANAGE_MEMBERS,  # invite
    ("accounts:member_role", "POST"): Perm.MANAGE_MEMBERS,
    ("accounts:member_remove", "POST"): Perm.MANAGE_MEMBERS,
    ("accounts:invitation_revoke", "POST"): Perm.MANAGE_MEMBERS,
    ("accounts:api_keys", "GET"): Perm.MANAGE_API_KEYS,
    ("accounts:api_keys", "POST"): Perm.MANAGE_API_KEYS,
    ("accounts:api_key_revoke", "POST"): Perm.MANAGE_API_KEYS,
    ("accounts:audit_log", "GET"): Perm.VIEW_AUDIT_LOG,
    ("accounts:organization_settings", "GET"): Perm.MANAGE_ORGANIZATION,
    ("accounts:organization_settings", "POST"): Perm.MANAGE_ORGANIZATION,
    ("accounts:organization_logo", "GET"): Perm.VIEW,
    ("accounts:organization_archive", "POST"): Perm.MANAGE_ORGANIZATION,
    ("accounts:organization_archive_download", "GET"): Perm.MANAGE_ORGANIZATION,
    ("accounts:organization_delete", "POST"): Perm.MANAGE_ORGANIZATION,
    ("accounts:organization_restore", "POST"): Perm.MANAGE_ORGANIZATION,
    # the person's own account (any signed-in person; deleting it needs their e-mail typed again)
    ("accounts:account", "GET"): Perm.OWN_ACCOUNT,
    ("accounts:account", "POST"): Perm.OWN_ACCOUNT,
    ("jobs:status", "GET"): Perm.VIEW,
    ("jobs:cancel", "POST"): "job kind",  # JOB_PERMISSIONS of the job's kind (job_permission)
    ("datasets:list", "GET"): Perm.VIEW,
    ("datasets:upload", "GET"): Perm.MANAGE_DATASETS,
    ("datasets:upload", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:synthetic", "GET"): Perm.MANAGE_DATASETS,
    ("datasets:synthetic", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:detail", "GET"): Perm.VIEW,
    ("datasets:roles", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:kind", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:add_version", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:delete", "GET"): Perm.MANAGE_DATASETS,
    ("datasets:delete", "POST"): Perm.MANAGE_DATASETS,
    ("datasets:download_original", "GET"): Perm.EXPORT,
    ("segments:list", "GET"): Perm.VIEW,
    ("segments:new_pick", "GET"): Perm.RUN_ANALYSES,
    ("segments:new", "GET"): Perm.RUN_ANALYSES,
    ("segments:new", "POST"): Perm.RUN_ANALYSES,
    ("segments:detail", "GET"): Perm.VIEW,
    ("segments:profiles", "GET"): Perm.VIEW,
    ("segments:visualizations", "GET"): Perm.VIEW,
    ("segments:insights", "GET"): Perm.VIEW,
    ("segments:lifetime_value", "GET"): Perm.VIEW,
    ("segments:compare", "GET"): Perm.VIEW,
    ("segments:rerun", "GET"): Perm.RUN_ANALYSES,
    ("segments:rerun", "POST"): Perm.RUN_ANALYSES,
    ("segments:delete", "POST"): Perm.RUN_ANALYSES,
    ("segments:changes", "GET"): Perm.VIEW,
    ("segments:movers_csv", "GET"): Perm.EXPORT,
    ("segments:rerun_latest", "POST"): Perm.RUN_ANALYSES,
    ("monitoring:index", "GET"): Perm.VIEW,
    ("monitoring:subscription", "POST"): Perm.VIEW,
    ("monitoring:endpoint_create", "POST"): Perm.MANAGE_WEBHOOKS,
    ("monitoring:endpoint_delete", "POST"): Perm.MANAGE_WEBHOOKS,
    ("monitoring:schedule", "POST"): Perm.RUN_ANALYSES,
    ("exports:download", "GET"): Perm.EXPORT,
    ("exports:detail", "GET"): Perm.EXPORT,
    ("exports:file", "GET"): Perm.EXPORT,
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
