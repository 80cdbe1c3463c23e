"""Pages for organizations, members, invitations and API keys."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from accounts import services
from accounts.context import actor_can, org_required, require
from accounts.forms import AcceptInvitationForm, APIKeyForm, InviteForm, RoleForm
from accounts.middleware import switch_organization
from accounts.models import AuditEvent, Invitation, Membership, OrganizationAPIKey, User
from accounts.permissions import Perm, Role, roles_assignable_by
from accounts.scoping import get_object_for_org


@login_required
@require_POST
def switch_org(request):
    try:
        org_id = int(request.POST.get("organization", ""))
    except ValueError as exc:
        raise Http404("No such organization") from exc
    if not switch_organization(request, org_id):
        raise Http404("No such organization")
    messages.success(request, f"Now working in {request.organization.name}.")
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}) or "/" in nxt.strip("/"):
        # Object pages of the previous organization would 404 in the new one: go to the section root.
        nxt = "/" + nxt.strip("/").split("/")[0] + "/" if nxt.strip("/") else "/"
        if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            nxt = "/"
    return redirect(nxt)


@require_safe
@login_required
def no_organization(request):
    if request.organization is not None:
        return redirect("home")
    return render(request, "accounts/no_organization.html")


@org_required(Perm.VIEW)
def members(request):
    org = request.organization
    role = request.membership.role if request.membership else None
    can_manage = actor_can(request, Perm.MANAGE_MEMBERS)
    assignable = roles_assignable_by(role) if can_manage else []
    invite_form = InviteForm(request.POST or None, assignable_roles=assignable) if can_manage else None
    if request.method == "POST":
        require(request, Perm.MANAGE_MEMBERS)
        if invite_form.is_valid():
            try:
                invitation = services.invitation_create(
                    organization=org,
                    email=invite_form.cleaned_data["email"],
                    role=invite_form.cleaned_data["role"],
                    invited_by=request.user,
                    inviter_role=role,
                )
            except services.AccountsError as exc:
                invite_form.add_error("email", str(exc))
            else:
                url = services.invitation_send(invitation, request=request)
                messages.success(request, f"Invitation sent to {invitation.email}. Link: {url}")
                return redirect("accounts:members")
    memberships = Membership.objects.for_organization(org).select_related("user").order_by("user__email")
    invitations = [i for i in Invitation.objects.for_organization(org).filter(accepted_at=None) if i.is_usable]
    return render(
        request,
        "accounts/members.html",
        {
            "memberships": memberships,
            "invitations": invitations,
            "invite_form": invite_form,
            "can_manage": can_manage,
            "assignable_roles": [(r.value, r.label) for r in Role if r.value in assignable],
        },
    )


@org_required(Perm.MANAGE_MEMBERS)
@require_POST
def member_role(request, membership_id: int):
    membership = get_object_for_org(Membership, request.organization, pk=membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=request.user,
                actor_role=request.membership.role,
            )
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
        except services.AccountsError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Unknown role.")
    return redirect("accounts:members")


@org_required(Perm.MANAGE_MEMBERS)
@require_POST
def member_remove(request, membership_id: int):
    membership = get_object_for_org(Membership, request.organization, pk=membership_id)
    try:
        services.membership_remove(membership=membership, actor=request.user, actor_role=request.membership.role)
        messages.success(request, f"{membership.user.email} was removed.")
    except services.AccountsError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:members")


@org_required(Perm.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = get_object_for_org(Invitation, request.organization, pk=invitation_id)
    invitation.delete()
    services.audit(
        organization=request.organization,
        action="member.invitation_revoked",
        actor=request.user,
        target=invitation.email,
    )
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect("accounts:members")


def accept_invitation(request, token: str):
    invitation = Invitation.objects.unscoped().select_related("organization").filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        return render(request, "accounts/invitation_invalid.html", status=404)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=request.user)
            except services.AccountsError as exc:
                messages.error(request, str(exc))
                return redirect("home")
            request.session["active_organization_id"] = invitation.organization_id
            messages.success(request, f"Welcome to {invitation.organization.name}.")
            return redirect("home")
        return render(request, "accounts/accept_invitation.html", {"invitation": invitation, "form": None})
    if existing is not None:
        messages.info(request, f"Sign in as {invitation.email} to accept the invitation.")
        return redirect(f"{reverse('account_login')}?next={request.path}")
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, _ = services.user_get_or_create(email=invitation.email, password=form.cleaned_data["password1"])
        services.invitation_accept(invitation=invitation, user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session["active_organization_id"] = invitation.organization_id
        messages.success(request, f"Welcome to {invitation.organization.name}.")
        return redirect("home")
    return render(request, "accounts/accept_invitation.html", {"invitation": invitation, "form": form})


@org_required(Perm.MANAGE_API_KEYS)
def api_keys(request):
    org = request.organization
    form = APIKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = services.api_key_create(
                organization=org,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
            )
            form = APIKeyForm()
        except services.AccountsError as exc:
            form.add_error(None, str(exc))
    keys = OrganizationAPIKey.objects.for_organization(org).select_related("created_by")
    return render(request, "accounts/api_keys.html", {"form": form, "keys": keys, "new_key": new_key})


@org_required(Perm.MANAGE_API_KEYS)
@require_POST
def api_key_revoke(request, key_id: str):
    key = get_object_for_org(OrganizationAPIKey, request.organization, pk=key_id)
    services.api_key_revoke(api_key=key, actor=request.user)
    messages.success(request, f"Key {key.name} ({key.prefix}…) revoked.")
    return redirect("accounts:api_keys")


@require_safe
@org_required(Perm.VIEW_AUDIT_LOG)
def audit_log(request):
    events = AuditEvent.objects.for_organization(request.organization).select_related("actor", "api_key")[:500]
    return render(request, "accounts/audit_log.html", {"events": events})
