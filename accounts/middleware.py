"""Sets `request.organization` / `request.membership` from the user's chosen active organization."""

from segments.engine.formatting import activate_currency, deactivate_currency

SESSION_KEY = "active_organization_id"


def _memberships(request):
    """The user's memberships; of an organization scheduled for deletion only an owner's (to restore it)."""
    memberships = request.user.memberships.select_related("organization").order_by("organization__name")
    return [m for m in memberships if m.organization.deletion_requested_at is None or m.role == "owner"]


class ActiveOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        request.api_key = None
        if request.user.is_authenticated:
            memberships = _memberships(request)
            request.memberships = memberships
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in memberships if m.organization_id == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
                request.session[SESSION_KEY] = chosen.organization_id
            if chosen is not None:
                request.membership = chosen
                request.organization = chosen.organization
        else:
            request.memberships = []
        # Money figures of this request (pages, charts, exports) are in the organization's currency. An API key's
        # organization is known only once DRF authenticates: `OrganizationAPIKeyAuthentication` activates it then.
        token = activate_currency(request.organization.currency if request.organization else None)
        try:
            return self.get_response(request)
        finally:
            deactivate_currency(token)


def switch_organization(request, organization_id: int) -> bool:
    """Make `organization_id` active if the user belongs to it."""
    membership = next((m for m in request.memberships if m.organization_id == organization_id), None)
    if membership is None:
        return False
    request.session[SESSION_KEY] = organization_id
    request.membership = membership
    request.organization = membership.organization
    return True
