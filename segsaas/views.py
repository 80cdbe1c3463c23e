from django.shortcuts import render

from accounts.context import org_required
from accounts.models import Membership
from accounts.permissions import Perm


@org_required(Perm.VIEW)
def home(request):
    """The organization's dashboard: what it has, what is running, the latest analyses."""
    from datasets.models import Dataset
    from jobs.models import ACTIVE_STATUSES, Job
    from segments.models import Analysis
    from segments.services import JOB_KIND

    org = request.organization
    analyses = (
        Analysis.objects.for_organization(org)
        .select_related("dataset", "job")
        .defer("metrics", "summary", "config", "dataset__profile", "dataset__schema", "job__params", "job__result")
        .order_by("-created_at")
    )
    latest = (
        Analysis.objects.for_organization(org)
        .filter(job__status="succeeded", n_segments__isnull=False)
        .only("id", "name", "profiles", "customer_count")
        .order_by("-created_at")
        .first()
    )
    return render(
        request,
        "home.html",
        {
            "member_count": Membership.objects.for_organization(org).count(),
            "dataset_count": Dataset.objects.for_organization(org).count(),
            "analysis_count": analyses.count(),
            "active_analysis_count": Job.objects.for_organization(org)
            .filter(kind=JOB_KIND, status__in=ACTIVE_STATUSES)
            .count(),
            "recent_analyses": analyses[:6],
            "latest": latest,
            "latest_segments": sorted(latest.profiles, key=lambda p: -p.get("size", 0))[:6] if latest else [],
        },
    )


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
