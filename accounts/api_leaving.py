"""Leaving through the API: the organization's archive, its deletion with a grace period, and a person's own account.

- `GET/POST /api/v1/organization/archive/`: the latest archive (its job's progress, and `download` once built) /
  build a new one (202 with the job; one at a time: an archive being built is returned instead).
- `GET /api/v1/organization/archive/download/`: the newest built archive (ZIP), audited.
- `GET/POST/DELETE /api/v1/organization/deletion/`: whether deletion is scheduled / schedule it (the name typed
  again as `confirm_name`; members lose access now, owners can cancel until `purge_after`) / cancel it.
- `GET/DELETE /api/v1/account/`: the signed-in person's account: what blocks deleting it / delete it
  (`confirm_email`; refused, with the organizations named, for the last owner of one).

Rights come from the one table (`accounts/permissions.py`): the organization's actions need MANAGE_ORGANIZATION
(owners), the account's OWN_ACCOUNT (every role; no API key scope, since a key acts for an organization, not a
person). The services are `accounts.leaving`'s, as on the settings and account pages; refusals come back in the
one error format with the field at fault.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from accounts.api_auth import HasOrgPermission, OwnAccountPermission
from accounts.permissions import Perm
from jobs.serializers import JobProgressSerializer, job_progress
from segsaas.api_errors import BodySizeLimitMixin, error_response, error_responses
from segsaas.api_params import StrictJsonTypes


def _organization(request):
    return request._request.organization


# --- the archive ---------------------------------------------------------------------------------------------------


class ArchiveSerializer(serializers.Serializer):
    job = JobProgressSerializer(allow_null=True, help_text="The latest archive's build (null: none was asked for).")
    download = serializers.CharField(
        allow_null=True, help_text="URL of the newest built archive (null until one is built)."
    )
    file_name = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True, help_text="Bytes.")
    built_at = serializers.DateTimeField(allow_null=True)


def archive_document(organization) -> dict:
    from accounts import leaving

    jobs = list(leaving.archive_jobs(organization=organization)[: leaving.ARCHIVES_KEPT])
    built = next((j for j in jobs if j.status == "succeeded" and (j.result or {}).get("file")), None)
    result = (built.result or {}) if built else {}
    return {
        "job": job_progress(jobs[0]) if jobs else None,
        "download": reverse("api-organization-archive-download") if built else None,
        "file_name": result.get("file_name"),
        "size": result.get("size"),
        "built_at": built.finished_at if built else None,
    }


class OrganizationArchiveViewSet(viewsets.ViewSet):
    permission_classes = [HasOrgPermission]
    perms_by_action = {"retrieve": Perm.MANAGE_ORGANIZATION, "create": Perm.MANAGE_ORGANIZATION}
    allowed_pending_deletion = True  # owners take the data out during the grace period too

    @extend_schema(
        summary="The organization's archive: the latest build's progress and the download link (owners)",
        responses={200: ArchiveSerializer, **error_responses()},
    )
    def retrieve(self, request):
        return Response(archive_document(_organization(request)))

    @extend_schema(
        summary="Build an archive of everything the organization holds (owners)",
        description="Datasets (original uploads and tables), analyses with their results, exports and the audit "
        "log, as one ZIP built in the background: `202` with the job; poll `GET` until `download` is set. While an "
        "archive is being built, that build is returned instead of starting another.",
        request=None,
        responses={202: ArchiveSerializer, **error_responses()},
    )
    def create(self, request):
        from accounts import leaving

        organization = _organization(request)
        leaving.organization_archive_start(organization=organization, actor=request.user)
        return Response(archive_document(organization), status=status.HTTP_202_ACCEPTED)


class OrganizationArchiveDownloadViewSet(viewsets.ViewSet):
    permission_classes = [HasOrgPermission]
    perms_by_action = {"download": Perm.MANAGE_ORGANIZATION}
    allowed_pending_deletion = True

    @extend_schema(
        summary="Download the newest built archive (ZIP; owners)",
        responses={
            (200, "application/zip"): bytes,
            **error_responses(409),
        },
    )
    def download(self, request):
        from accounts import leaving
        from accounts.services import AccountsError

        organization = _organization(request)
        built = leaving.archive_jobs(organization=organization).filter(status="succeeded").first()
        if built is None:
            return error_response(
                "archive_not_ready",
                "No archive has been built yet: POST /api/v1/organization/archive/ and wait for its job.",
                http_status=status.HTTP_409_CONFLICT,
            )
        try:
            download = leaving.organization_archive_download(organization=organization, job=built, actor=request.user)
        except AccountsError as exc:  # removed from storage meanwhile
            return error_response("archive_not_ready", str(exc), http_status=status.HTTP_409_CONFLICT)
        return download.as_response()


# --- deletion ------------------------------------------------------------------------------------------------------


class DeletionSerializer(serializers.Serializer):
    scheduled = serializers.BooleanField(help_text="Whether the organization is scheduled for deletion.")
    requested_at = serializers.DateTimeField(allow_null=True)
    purge_after = serializers.DateTimeField(
        allow_null=True, help_text="When every row and file is removed; until then owners can cancel."
    )
    grace_days = serializers.IntegerField(help_text="Days between the request and the purge.")


class DeletionRequestSerializer(StrictJsonTypes, serializers.Serializer):
    confirm_name = serializers.CharField(
        allow_blank=True, help_text="The organization's name, typed exactly, to confirm."
    )


def deletion_document(organization) -> dict:
    return {
        "scheduled": organization.is_pending_deletion,
        "requested_at": organization.deletion_requested_at,
        "purge_after": organization.purge_after,
        "grace_days": settings.ORGANIZATION_DELETION_GRACE_DAYS,
    }


class OrganizationDeletionViewSet(BodySizeLimitMixin, viewsets.ViewSet):
    permission_classes = [HasOrgPermission]
    perms_by_action = {
        "retrieve": Perm.MANAGE_ORGANIZATION,
        "create": Perm.MANAGE_ORGANIZATION,
        "destroy": Perm.MANAGE_ORGANIZATION,
    }
    allowed_pending_deletion = True

    @extend_schema(
        summary="Whether the organization is scheduled for deletion, and when it is purged (owners)",
        responses={200: DeletionSerializer, **error_responses()},
    )
    def retrieve(self, request):
        return Response(deletion_document(_organization(request)))

    @extend_schema(
        summary="Schedule the organization's deletion (owners)",
        description="Members and API keys lose access at once; owners can cancel (`DELETE`) until `purge_after`, "
        "after which every row and file of the organization is removed. Running jobs are cancelled.",
        request=DeletionRequestSerializer,
        responses={202: DeletionSerializer, **error_responses(400)},
    )
    def create(self, request):
        from accounts import leaving

        form = DeletionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        organization = _organization(request)
        leaving.organization_delete_request(
            organization=organization, actor=request.user, confirm_name=form.validated_data["confirm_name"]
        )
        return Response(deletion_document(organization), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Cancel the scheduled deletion during the grace period (owners)",
        request=None,
        responses={200: DeletionSerializer, **error_responses(400)},
    )
    def destroy(self, request):
        from accounts import leaving

        organization = _organization(request)
        leaving.organization_restore(organization=organization, actor=request.user)
        return Response(deletion_document(organization))


# --- the person's own account -------------------------------------------------------------------------------------


class AccountSerializer(serializers.Serializer):
    email = serializers.EmailField()
    organizations = serializers.ListField(
        child=inline_serializer("AccountMembership", {"name": serializers.CharField(), "role": serializers.CharField()})
    )
    deletion_blocked_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Organizations this person is the last owner of: make another member an owner, or delete them, "
        "before deleting the account.",
    )


class AccountDeleteSerializer(StrictJsonTypes, serializers.Serializer):
    confirm_email = serializers.CharField(allow_blank=True, help_text="Your e-mail address, typed again to confirm.")


def account_document(user) -> dict:
    from accounts import leaving

    memberships = leaving.user_memberships(user=user)
    return {
        "email": user.email,
        "organizations": [{"name": m.organization.name, "role": m.role} for m in memberships],
        "deletion_blocked_by": leaving.user_delete_blockers(user=user),
    }


class AccountViewSet(BodySizeLimitMixin, viewsets.ViewSet):
    permission_classes = [OwnAccountPermission]
    perms_by_action = {"retrieve": Perm.OWN_ACCOUNT, "destroy": Perm.OWN_ACCOUNT}
    allowed_pending_deletion = True

    @extend_schema(
        summary="Your own account: its organizations, and what blocks deleting it (signed-in people, not API keys)",
        responses={200: AccountSerializer, **error_responses()},
    )
    def retrieve(self, request):
        return Response(account_document(request.user))

    @extend_schema(
        summary="Delete your own account (signed-in people, not API keys)",
        description="Your memberships end (audited in each organization). Refused for the last owner of an "
        "organization, naming it: make another member an owner, or delete the organization, first.",
        request=AccountDeleteSerializer,
        responses={204: None, **error_responses(400)},
    )
    def destroy(self, request):
        from django.contrib.auth import logout

        from accounts import leaving

        form = AccountDeleteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        leaving.user_delete(user=request.user, confirm_email=form.validated_data["confirm_email"])
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def urlpatterns():
    """The routes (`segsaas/api_urls.py` includes them): actions named, so the route walks see each one."""
    from django.urls import path

    return [
        path(
            "organization/archive/",
            OrganizationArchiveViewSet.as_view({"get": "retrieve", "post": "create"}),
            name="api-organization-archive",
        ),
        path(
            "organization/archive/download/",
            OrganizationArchiveDownloadViewSet.as_view({"get": "download"}),
            name="api-organization-archive-download",
        ),
        path(
            "organization/deletion/",
            OrganizationDeletionViewSet.as_view({"get": "retrieve", "post": "create", "delete": "destroy"}),
            name="api-organization-deletion",
        ),
        path("account/", AccountViewSet.as_view({"get": "retrieve", "delete": "destroy"}), name="api-account"),
    ]
