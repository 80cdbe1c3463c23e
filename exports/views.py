"""Reports page, downloads and background-export pages.

Downloads may be for any organization the person belongs to, not only the active one: the Reports page
lists every organization's analyses. A download URL names the organization with `?org=<id>`; the view
acts for that organization only if the person is a member there (else 404, like any other tenant's
object) and their role there allows exporting (else 403). Without `?org` the active organization is used.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.context import require
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from exports.models import Export, ExportFormat
from exports.selectors import reports_for_memberships
from exports.services import export_request, export_serve
from segments.engine.errors import UserFacingError


def membership_for_request(request):
    """The membership a request acts through: `?org=<id>` (one of the person's) or the active one; 404 otherwise."""
    wanted = request.GET.get("org")
    if wanted in (None, ""):
        return request.membership
    membership = next((m for m in request.memberships if str(m.organization_id) == wanted), None)
    if membership is None:
        raise Http404("No such organization here")
    return membership


def export_permission(view):
    """Logged in; acting for the organization named by `?org` (or the active one), whose role allows exports."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        membership = membership_for_request(request)
        if membership is None:
            return redirect("accounts:no_organization")
        request.organization, request.membership = membership.organization, membership
        require(request, Perm.EXPORT)
        return view(request, *args, **kwargs)

    wrapped.required_perm = Perm.EXPORT
    return wrapped


def with_org(url: str, organization) -> str:
    return f"{url}{'&' if '?' in url else '?'}org={organization.pk}"


@login_required
@require_GET
def reports(request):
    entries = reports_for_memberships(request.memberships, user=request.user)
    return render(
        request,
        "exports/reports.html",
        {
            "entries": entries,
            "formats": ExportFormat.choices,
            "exportable": [e for e in entries if e.can_export],
        },
    )


@export_permission
@require_GET
def download(request, analysis_id: int):
    from segments.selectors import analysis_get

    analysis = analysis_get(organization=request.organization, analysis_id=analysis_id)
    try:
        outcome = export_request(
            analysis=analysis, format=request.GET.get("format", ""), params=request.GET, actor=request.user
        )
    except UserFacingError as exc:  # a bad format, segment or filter value: the message names it
        return HttpResponseBadRequest(exc.describe())
    if outcome.download is not None:
        return outcome.download.as_response()
    return redirect(with_org(reverse("exports:detail", args=[outcome.export.pk]), request.organization))


@export_permission
@require_GET
def detail(request, export_id: int):
    """A background export: live progress, then a notice and the download button when it is ready.

    The progress widget polls the jobs endpoint of the *active* organization, so opening this page for
    another of the person's organizations makes that one active (they are a member with export rights).
    """
    from accounts.middleware import switch_organization

    export = get_object_for_org(
        Export.objects.for_organization(request.organization).select_related("analysis", "job", "organization"),
        request.organization,
        pk=export_id,
    )
    if request.session.get("active_organization_id") != request.organization.pk:
        switch_organization(request, request.organization.pk)
        messages.info(request, f"You are now working in {request.organization.name}.")
    return render(request, "exports/detail.html", {"export": export, "job": export.job})


@export_permission
@require_GET
def file(request, export_id: int):
    export = get_object_for_org(
        Export.objects.for_organization(request.organization).select_related("analysis", "organization"),
        request.organization,
        pk=export_id,
    )
    if not export.is_ready:
        raise Http404("This export has no file (yet).")
    return export_serve(export=export, actor=request.user).as_response()
