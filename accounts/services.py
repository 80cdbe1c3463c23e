"""Writes for accounts: organizations, memberships, invitations, API keys, audit events."""

import re

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    User,
    _invitation_expiry,
)
from accounts.permissions import API_SCOPES, Role, roles_assignable_by
from segments.engine.errors import UserFacingError


class AccountsError(UserFacingError):
    """A rule was broken; the message says which."""


def audit(*, organization, action: str, actor=None, api_key=None, target: str = "", **details) -> AuditEvent:
    """Record a write an owner may ask about. `actor` is the person (an API key passed as `actor` is recorded as
    the key); anonymous or missing actors are recorded as the system."""
    if isinstance(actor, OrganizationAPIKey):
        actor, api_key = None, actor
    elif isinstance(getattr(actor, "api_key", None), OrganizationAPIKey):  # the API's stand-in for request.user
        actor, api_key = None, actor.api_key
    if actor is not None and not getattr(actor, "pk", None):
        actor = None
    label = actor.email if actor is not None else (f"API key {api_key.prefix}" if api_key is not None else "")
    return AuditEvent.objects.for_organization(organization).create(
        actor=actor, api_key=api_key, actor_label=label, action=action, target=target[:200], details=details
    )


@transaction.atomic
def organization_create(*, name: str, owner: User, **limits) -> Organization:
    name = name.strip()
    if not name:
        raise AccountsError("An organization needs a name.")
    org = Organization.objects.create(name=name, slug=Organization.unique_slug_for(name), **limits)
    Membership.objects.for_organization(org).create(user=owner, role=Role.OWNER)
    return org


def user_get_or_create(*, email: str, password: str | None = None) -> tuple[User, bool]:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(email=email, password=password)
    _mark_email_verified(user)
    return user, True


def _mark_email_verified(user: User) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


def invitation_create(*, organization, email: str, role: str, invited_by, inviter_role: str) -> Invitation:
    email = email.strip().lower()
    if role not in roles_assignable_by(inviter_role):
        raise AccountsError(f"You cannot invite someone as {Role(role).label}.", field="role")
    if Membership.objects.for_organization(organization).filter(user__email__iexact=email).exists():
        raise AccountsError(f"{email} is already a member of {organization.name}.", field="email")
    with transaction.atomic():
        pending = [
            i
            for i in Invitation.objects.for_organization(organization).select_for_update().filter(email__iexact=email)
            if i.is_usable
        ]
        if pending:
            # One pending invitation per address: inviting again updates it (role, inviter, a fresh week).
            invitation, extra = pending[0], pending[1:]
            old_role = invitation.role
            for stale in extra:
                stale.delete()
            invitation.role, invitation.invited_by = role, invited_by
            invitation.expires_at = _invitation_expiry()
            invitation.save(update_fields=["role", "invited_by", "expires_at"])
            audit(
                organization=organization,
                action="member.invitation_updated",
                actor=invited_by,
                target=email,
                old_role=old_role,
                role=role,
            )
            invitation.was_updated = True
            return invitation
        invitation = Invitation.objects.for_organization(organization).create(
            email=email, role=role, invited_by=invited_by
        )
    audit(organization=organization, action="member.invited", actor=invited_by, target=email, role=role)
    invitation.was_updated = False
    return invitation


def invitation_revoke(*, invitation: Invitation, actor) -> None:
    organization, email = invitation.organization, invitation.email
    invitation.delete()
    audit(organization=organization, action="member.invitation_revoked", actor=actor, target=email)


def invitation_send(invitation: Invitation, *, request) -> str:
    from django.core.mail import send_mail

    url = request.build_absolute_uri(reverse("accounts:accept_invitation", args=[invitation.token]))
    send_mail(
        subject=f"You are invited to {invitation.organization.name} on SegSaaS",
        message=(
            f"{invitation.invited_by or 'Someone'} invited you to join {invitation.organization.name} "
            f"on SegSaaS as {invitation.get_role_display()}.\n\nAccept the invitation: {url}\n\n"
            f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return url


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    if not invitation.is_usable:
        raise AccountsError("This invitation has expired or was already used.")
    if user.email.lower() != invitation.email.lower():
        raise AccountsError(f"This invitation is for {invitation.email}; you are signed in as {user.email}.")
    membership, _ = Membership.objects.for_organization(invitation.organization).get_or_create(
        user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _mark_email_verified(user)
    audit(organization=invitation.organization, action="member.joined", actor=user, target=user.email)
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor, actor_role: str) -> Membership:
    org = membership.organization
    allowed = roles_assignable_by(actor_role)
    if role not in allowed or (membership.role == Role.OWNER and actor_role != Role.OWNER):
        raise AccountsError("Your role cannot make that change.")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.for_organization(org).filter(role=Role.OWNER).count()
        if owners <= 1:
            raise AccountsError("An organization needs at least one owner.")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(organization=org, action="member.role_changed", actor=actor, target=membership.user.email, old=old, new=role)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor, actor_role: str) -> None:
    org = membership.organization
    if membership.role == Role.OWNER:
        if actor_role != Role.OWNER:
            raise AccountsError("Only an owner can remove an owner.")
        if Membership.objects.for_organization(org).filter(role=Role.OWNER).count() <= 1:
            raise AccountsError("An organization needs at least one owner.")
    elif membership.role not in roles_assignable_by(actor_role):
        raise AccountsError("Your role cannot remove this member.")
    email = membership.user.email
    membership.delete()
    audit(organization=org, action="member.removed", actor=actor, target=email)


def api_key_create(*, organization, name: str, scopes, created_by=None) -> tuple[OrganizationAPIKey, str]:
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in API_SCOPES]
    if unknown:
        raise AccountsError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(API_SCOPES)}.")
    if not scopes:
        raise AccountsError("Choose at least one scope.")
    if not name.strip():
        raise AccountsError("Give the key a name.")
    key_obj, key = OrganizationAPIKey.objects.create_key(
        organization=organization, name=name.strip(), scopes=scopes, created_by=created_by
    )
    audit(organization=organization, action="api_key.created", actor=created_by, target=key_obj.prefix, scopes=scopes)
    return key_obj, key


def api_key_revoke(*, api_key: OrganizationAPIKey, actor) -> None:
    from accounts.api_auth import verified_keys

    api_key.revoked = True
    api_key.save(update_fields=["revoked"])
    verified_keys.forget(api_key)
    # and again once committed: a request that read the row before the commit must not cache it as usable
    transaction.on_commit(lambda: verified_keys.forget(api_key))
    audit(organization=api_key.organization, action="api_key.revoked", actor=actor, target=api_key.prefix)


# --- organization settings -------------------------------------------------------------------------------------

_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}
LOGO_MAX_PIXELS = 4000


def _clean_logo(logo) -> tuple[bytes, str]:
    """The uploaded logo's bytes and extension; raises AccountsError(field="logo") for anything but a PNG or JPEG
    image within the size limit."""
    import io

    from django.conf import settings
    from django.template.defaultfilters import filesizeformat
    from PIL import Image, UnidentifiedImageError

    limit = settings.ORGANIZATION_LOGO_MAX_BYTES
    name = f"The logo {getattr(logo, 'name', '') or ''}".strip()
    data = logo.read(limit + 1)
    if len(data) > limit:
        raise AccountsError(
            f"{name} is larger than {filesizeformat(limit)}; use a smaller PNG or JPEG.".replace("\xa0", " "),
            field="logo",
        )
    if not data:
        raise AccountsError(f"{name} is empty.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AccountsError(f"{name} is not a PNG or JPEG image.", field="logo") from exc
    if kind not in LOGO_FORMATS:
        raise AccountsError(f"{name} is a {kind} image; upload a PNG or JPEG.", field="logo")
    if max(width, height) > LOGO_MAX_PIXELS:
        raise AccountsError(
            f"{name} is {width}×{height} pixels; at most {LOGO_MAX_PIXELS}×{LOGO_MAX_PIXELS}.", field="logo"
        )
    return data, LOGO_FORMATS[kind]


def organization_update(
    *,
    organization: Organization,
    actor,
    name: str | None = None,
    currency: str | None = None,
    report_primary_colour: str | None = None,
    report_accent_colour: str | None = None,
    logo=None,
    remove_logo: bool = False,
) -> Organization:
    """Change the organization's name, currency, report colours and logo (each None: unchanged). Every bad value
    is refused at once with its field, and nothing changes; the change is audited (`organization.updated`)."""
    import io
    import secrets as _secrets

    from segments.engine.formatting import CURRENCIES
    from segsaas import storage

    errors: list[AccountsError] = []
    changes: dict[str, object] = {}
    if name is not None:
        clean = " ".join(name.split())
        if not clean:
            errors.append(AccountsError("The organization needs a name.", field="name"))
        elif len(clean) > 200:
            errors.append(AccountsError(f"The name is {len(clean)} characters long; at most 200.", field="name"))
        elif clean != organization.name:
            changes["name"] = clean
    if currency is not None:
        code = currency.strip().upper()
        if code not in CURRENCIES:
            errors.append(
                AccountsError(
                    f"“{currency}” is not a currency we offer; choose one of {', '.join(sorted(CURRENCIES))}.",
                    field="currency",
                )
            )
        elif code != organization.currency:
            changes["currency"] = code
    for field, value in (
        ("report_primary_colour", report_primary_colour),
        ("report_accent_colour", report_accent_colour),
    ):
        if value is None:
            continue
        if not _HEX_COLOUR.match(value.strip()):
            errors.append(AccountsError(f"“{value}” is not a colour; use the form #1F3A5F.", field=field))
        elif value.strip().upper() != getattr(organization, field).upper():
            changes[field] = value.strip().upper()
    logo_data = None
    if logo is not None:
        try:
            logo_data = _clean_logo(logo)
        except AccountsError as exc:
            errors.append(exc)
    if errors:
        raise AccountsError.of(errors)
    old_logo = organization.report_logo
    if logo_data is not None:
        data, ext = logo_data
        path = f"{_organization_dir(organization)}/branding/logo-{_secrets.token_hex(6)}.{ext}"
        storage.save(path, io.BytesIO(data))
        changes["report_logo"] = path
    elif remove_logo and old_logo:
        changes["report_logo"] = ""
    if not changes:
        return organization
    before = {field: getattr(organization, field) for field in changes}
    for field, value in changes.items():
        setattr(organization, field, value)
    organization.settings_changed_at = timezone.now()
    organization.save(update_fields=[*changes, "settings_changed_at"])
    if "report_logo" in changes and old_logo:
        transaction.on_commit(lambda: storage.delete(old_logo))
    audit(
        organization=organization,
        action="organization.updated",
        actor=actor,
        target=organization.name,
        **{
            field: ("new logo" if field == "report_logo" and value else "logo removed")
            if field == "report_logo"
            else f"{before[field]} → {value}"
            for field, value in changes.items()
        },
    )
    return organization


def _organization_dir(organization) -> str:
    from datasets.storage import organization_dir

    return organization_dir(organization.pk)


def organization_logo_bytes(organization) -> bytes | None:
    from segsaas import storage

    if not organization.report_logo:
        return None
    try:
        with storage.open(organization.report_logo) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def organization_logo_data_uri(organization) -> str | None:
    """The logo as a data URI for the PDF report (None without one)."""
    import base64

    data = organization_logo_bytes(organization)
    if data is None:
        return None
    kind = "png" if organization.report_logo.endswith(".png") else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"
