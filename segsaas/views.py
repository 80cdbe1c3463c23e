from django.shortcuts import render

from accounts.context import org_required
from accounts.models import Membership
from accounts.permissions import Perm


@org_required(Perm.VIEW)
def home(request):
    org = request.organization
    return render(
        request,
        "home.html",
        {"member_count": Membership.objects.for_organization(org).count()},
    )
