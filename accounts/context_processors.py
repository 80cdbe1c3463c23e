from accounts.context import actor_can
from accounts.permissions import Perm


def organization(request):
    org = getattr(request, "organization", None)
    can = {perm.value: actor_can(request, perm) for perm in Perm} if org is not None else {}
    return {
        "active_organization": org,
        "active_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        "can": can,
    }
