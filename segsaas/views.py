from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.context import org_required
from accounts.permissions import Perm


@require_safe
@org_required(Perm.VIEW)
def home(request):
    """The organization's dashboard: what it has, what is running, the latest analyses."""
    from monitoring.services import recent_alerts
    from segments.selectors import dashboard

    context = dashboard(organization=request.organization)
    context["drift_alerts"] = recent_alerts(organization=request.organization)
    return render(request, "home.html", context)


@require_safe
@org_required(Perm.VIEW)
def api_quickstart(request):
    """How to call the API, with this server's address and this organization's slug in the examples."""
    from django.conf import settings

    return render(
        request,
        "api_quickstart.html",
        {
            "api_base": request.build_absolute_uri("/api/v1"),
            "body_limit_mb": round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)),
        },
    )
