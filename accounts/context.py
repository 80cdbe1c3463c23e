"""Who is acting, for which organization, and may they: the one permission check.

`request.organization` and `request.membership` are set by `ActiveOrganizationMiddleware` for
page requests and by `OrganizationAPIKeyAuthentication` for API-key requests. `actor_can()` is
the single check used by page views (`org_required`), DRF (`HasOrgPermission`) and templates.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from accounts.permissions import role_can, scopes_can


def actor_can(request, perm: str) -> bool:
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return scopes_can(api_key.scopes, perm)
    membership = getattr(request, "membership", None)
    return membership is not None and role_can(membership.role, perm)


def require(request, perm: str) -> None:
    if not actor_can(request, perm):
        raise PermissionDenied(f"Your role does not allow this ({perm.replace('_', ' ')}).")


def org_required(perm: str):
    """Page views: logged in, an active organization, and the role allows `perm`."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if getattr(request, "organization", None) is None:
                return redirect("accounts:no_organization")
            require(request, perm)
            if request.organization.is_pending_deletion and not getattr(view, "allowed_pending_deletion", False):
                # only owners still reach an organization scheduled for deletion: to restore it or take its data out
                return redirect("accounts:organization_settings")
            return view(request, *args, **kwargs)

        wrapped.required_perm = perm
        return wrapped

    return decorator


def allowed_pending_deletion(view):
    """Pages an owner still reaches while the organization is scheduled for deletion (under `org_required`)."""
    view.allowed_pending_deletion = True
    return view
