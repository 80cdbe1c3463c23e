"""Tenants (organizations), users, memberships with roles, invitations, API keys and the audit log."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from accounts.permissions import Role
from accounts.scoping import TenantManager


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Logs in with an e-mail address; belongs to organizations through memberships."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Organization(models.Model):
    """The tenant: a client company. Every tenant-owned row points here."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Plan limits.
    max_upload_bytes = models.BigIntegerField(default=500 * 1024 * 1024)
    max_rows = models.PositiveIntegerField(default=2_000_000)
    max_columns = models.PositiveIntegerField(default=200)
    max_concurrent_jobs = models.PositiveSmallIntegerField(default=2)
    # Settings an owner changes (accounts.services.organization_update): every money figure's currency (ISO 4217)
    # and the report's look. `settings_changed_at` tells built reports and workbooks they are out of date.
    currency = models.CharField(max_length=3, default="USD")
    report_logo = models.CharField(max_length=400, blank=True)  # storage path (segsaas.storage)
    report_primary_colour = models.CharField(max_length=7, default="#1F3A5F")
    report_accent_colour = models.CharField(max_length=7, default="#2A9D8F")
    settings_changed_at = models.DateTimeField(null=True, blank=True)
    # Leaving: an owner asked to delete the organization; it is purged after `purge_after` unless restored.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purge_after = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pending_deletion(self) -> bool:
        return self.deletion_requested_at is not None

    @classmethod
    def unique_slug_for(cls, name: str) -> str:
        base = slugify(name)[:60] or "org"
        slug, n = base, 2
        while cls.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANALYST)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership")]
        ordering = ["organization__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANALYST)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class OrganizationAPIKeyManager(TenantManager, BaseAPIKeyManager):
    def get_usable_keys(self):
        # A presented key is looked up before its organization is known; the key then *is* the scope.
        # Its organization comes in the same query: every authenticated request needs it.
        return self.unscoped().filter(revoked=False).select_related("organization")


class OrganizationAPIKey(AbstractAPIKey):
    """A partner's key: belongs to one organization, carries scopes; stored hashed, shown once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = OrganizationAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        ordering = ["-created"]


# What each audited action reads as (the audit page, its filter and its CSV). An action missing here reads as its
# key with the dots and underscores as spaces.
AUDIT_ACTION_LABELS = {
    "dataset.uploaded": "Dataset uploaded",
    "dataset.generated": "Synthetic dataset generated",
    "dataset.roles_updated": "Dataset column roles changed",
    "dataset.downloaded": "Original file downloaded",
    "dataset.deleted": "Dataset deleted",
    "analysis.started": "Analysis started",
    "analysis.rerun": "Analysis re-run",
    "analysis.deleted": "Analysis deleted",
    "job.cancelled": "Job cancelled",
    "export.downloaded": "Export downloaded",
    "member.invited": "Member invited",
    "member.invitation_updated": "Invitation changed",
    "member.invitation_revoked": "Invitation revoked",
    "member.joined": "Member joined",
    "member.role_changed": "Role changed",
    "member.removed": "Member removed",
    "member.left": "Member left",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "webhook.created": "Webhook endpoint registered",
    "webhook.updated": "Webhook endpoint changed",
    "webhook.deleted": "Webhook endpoint deleted",
    "organization.updated": "Organization settings changed",
    "organization.archive_requested": "Organization archive requested",
    "organization.archive_downloaded": "Organization archive downloaded",
    "organization.deletion_scheduled": "Organization deletion scheduled",
    "organization.deletion_cancelled": "Organization deletion cancelled",
    "audit_log.exported": "Audit log exported",
}


def audit_action_label(action: str) -> str:
    return AUDIT_ACTION_LABELS.get(action) or str(action or "").replace(".", " ").replace("_", " ").capitalize()


class AuditEvent(models.Model):
    """Every write an owner may ask about: uploads, runs, cancellations, deletions, downloads, members, keys,
    settings (recorded by `accounts.services.audit`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(OrganizationAPIKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # who acted, kept when the person's account (or the key) is deleted later: the log still names them
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"

    @property
    def action_label(self) -> str:
        return audit_action_label(self.action)
