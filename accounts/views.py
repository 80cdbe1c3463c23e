"""Pages for organizations, members, invitations and API keys."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts import services
from accounts.context import actor_can, allowed_pending_deletion, org_required, require
from accounts.forms import AcceptInvitationForm, APIKeyForm, InviteForm, RoleForm
from accounts.middleware import switch_organization
from accounts.models import Invitation, Membership, OrganizationAPIKey, User
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
                if invitation.was_updated:
                    messages.success(
                        request,
                        f"{invitation.email} already had a pending invitation: it now offers the role "
                        f"{invitation.get_role_display()} and was sent again. Link: {url}",
                    )
                else:
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
    services.invitation_revoke(invitation=invitation, actor=request.user)
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


AUDIT_PAGE_ROWS = 500


@require_safe
@org_required(Perm.VIEW_AUDIT_LOG)
def audit_log(request):
    """The audit log, filterable by action, actor and date range; `?format=csv` downloads the filtered rows."""
    from accounts import selectors

    org = request.organization
    errors: dict[str, list[str]] = {}
    try:
        where = selectors.audit_filter_from(request.GET)
    except selectors.AuditFilterError as exc:
        errors, where = exc.details, selectors.AuditFilter()
    events = selectors.audit_events(organization=org, where=where)
    if request.GET.get("format") == "csv" and not errors:
        filters = {f"filter_{k}": v for k, v in where.as_query().items() if v}
        services.audit(organization=org, action="audit_log.exported", actor=request.user, **filters)
        from django.http import StreamingHttpResponse

        response = StreamingHttpResponse(selectors.audit_csv_rows(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{org.slug}-audit-log.csv"'
        return response
    total = events.count()
    return render(
        request,
        "accounts/audit_log.html",
        {
            "events": events[:AUDIT_PAGE_ROWS],
            "total": total,
            "shown": min(total, AUDIT_PAGE_ROWS),
            "where": where,
            "query": request.GET,
            "errors": errors,
            "actions": selectors.audit_actions(organization=org),
            "csv_query": urlencode({**where.as_query(), "format": "csv"}),
        },
    )


# --- organization settings and leaving --------------------------------------------------------------------------


def _settings_context(request, form, **extra):
    from django.conf import settings as django_settings

    from accounts import leaving
    from jobs.models import ACTIVE_STATUSES

    org = request.organization
    archives = list(leaving.archive_jobs(organization=org)[: leaving.ARCHIVES_KEPT])
    return {
        "form": form,
        "org": org,
        "archives": archives,
        "archive_running": next((j for j in archives if j.status in ACTIVE_STATUSES), None),
        "grace_days": django_settings.ORGANIZATION_DELETION_GRACE_DAYS,
        "logo_max_bytes": django_settings.ORGANIZATION_LOGO_MAX_BYTES,
        **extra,
    }


@org_required(Perm.MANAGE_ORGANIZATION)
@allowed_pending_deletion
def organization_settings(request):
    """Owners: name, currency, the report's logo and colours, plan limits; take the data out; delete."""
    from accounts.forms import OrganizationSettingsForm

    org = request.organization
    initial = {
        "name": org.name,
        "currency": org.currency,
        "report_primary_colour": org.report_primary_colour,
        "report_accent_colour": org.report_accent_colour,
    }
    form = OrganizationSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and not org.is_pending_deletion and form.is_valid():
        data = form.cleaned_data
        try:
            services.organization_update(
                organization=org,
                actor=request.user,
                name=data["name"],
                currency=data["currency"],
                report_primary_colour=data["report_primary_colour"],
                report_accent_colour=data["report_accent_colour"],
                logo=data.get("logo"),
                remove_logo=data.get("remove_logo", False),
            )
        except services.AccountsError as exc:
            for field, problems in exc.details.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, "Settings saved.")
            return redirect("accounts:organization_settings")
    refused = request.method == "POST" and bool(form.errors)
    return render(
        request, "accounts/organization_settings.html", _settings_context(request, form), status=400 if refused else 200
    )


@require_safe
@org_required(Perm.VIEW)
def organization_logo(request):
    """The report logo of the active organization (shown on the settings page)."""
    from segsaas import storage

    org = request.organization
    if not org.report_logo or not storage.exists(org.report_logo):
        raise Http404("No logo")
    ext = org.report_logo.rsplit(".", 1)[-1]
    return storage.download(org.report_logo, filename=f"logo.{ext}").as_response()


@org_required(Perm.MANAGE_ORGANIZATION)
@allowed_pending_deletion
@require_POST
def organization_archive(request):
    from accounts import leaving

    leaving.organization_archive_start(organization=request.organization, actor=request.user)
    messages.info(request, "Building the archive of everything the organization holds; it appears below when ready.")
    return redirect(f"{reverse('accounts:organization_settings')}#archive")


@require_safe
@org_required(Perm.MANAGE_ORGANIZATION)
@allowed_pending_deletion
def organization_archive_download(request, job_id: int):
    from accounts import leaving
    from jobs.models import Job

    job = get_object_for_org(Job, request.organization, pk=job_id)
    if job.kind != leaving.ARCHIVE_JOB_KIND:
        raise Http404("No such archive")
    try:
        download = leaving.organization_archive_download(organization=request.organization, job=job, actor=request.user)
    except services.AccountsError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:organization_settings")
    return download.as_response()


@org_required(Perm.MANAGE_ORGANIZATION)
@require_POST
def organization_delete(request):
    from accounts import leaving
    from accounts.forms import OrganizationSettingsForm

    org = request.organization
    try:
        leaving.organization_delete_request(
            organization=org, actor=request.user, confirm_name=request.POST.get("confirm_name", "")
        )
    except services.AccountsError as exc:
        form = OrganizationSettingsForm(
            initial={
                "name": org.name,
                "currency": org.currency,
                "report_primary_colour": org.report_primary_colour,
                "report_accent_colour": org.report_accent_colour,
            }
        )
        context = _settings_context(request, form, delete_error=str(exc), confirm_name=request.POST.get("confirm_name"))
        return render(request, "accounts/organization_settings.html", context, status=400)
    messages.warning(
        request,
        f"{org.name} is scheduled for deletion on {org.purge_after:%Y-%m-%d %H:%M} UTC. Until then you can restore it here.",
    )
    return redirect("accounts:organization_settings")


@org_required(Perm.MANAGE_ORGANIZATION)
@allowed_pending_deletion
@require_POST
def organization_restore(request):
    from accounts import leaving

    try:
        leaving.organization_restore(organization=request.organization, actor=request.user)
        messages.success(request, f"{request.organization.name} is restored; nothing was deleted.")
    except services.AccountsError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:organization_settings")


@login_required
def account(request):
    """The person's own account: delete it (after handing over organizations they are the last owner of)."""
    from accounts import leaving

    error = None
    if request.method == "POST":
        try:
            leaving.user_delete(user=request.user, confirm_email=request.POST.get("confirm_email", ""))
        except services.AccountsError as exc:
            error = str(exc)
        else:
            from django.contrib.auth import logout

            logout(request)
            messages.success(request, "Your account was deleted.")
            return redirect("account_login")
    owned = [m for m in getattr(request, "memberships", []) if m.role == Role.OWNER]
    return render(
        request,
        "accounts/account.html",
        {"error": error, "owned": owned, "confirm_email": request.POST.get("confirm_email", "")},
        status=400 if error else 200,
    )
