"""Reads of analyses and their per-customer results (pages, API and exports share these)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from segments.models import Analysis, CustomerResult

COUNT_CAP = 10_000  # beyond this a filtered count is shown as "10,000+" instead of counting a million rows


def analysis_list(*, organization, dataset=None, status: str | None = None) -> QuerySet[Analysis]:
    qs = Analysis.objects.for_organization(organization).select_related("dataset", "job", "created_by")
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    if status == "draft":
        qs = qs.filter(job=None)
    elif status:
        qs = qs.filter(job__status=status)
    return qs


def analysis_get(*, organization, analysis_id) -> Analysis:
    from accounts.scoping import get_object_for_org

    return get_object_for_org(
        Analysis.objects.for_organization(organization).select_related("dataset", "job", "created_by", "rerun_of"),
        organization,
        pk=analysis_id,
    )


def analysis_profiles(*, analysis: Analysis) -> list[dict]:
    return sorted(analysis.profiles or [], key=lambda p: p["segment"])


def customer_results(*, analysis: Analysis, **filters) -> QuerySet[CustomerResult]:
    """This analysis's customers in dataset order (index: analysis, segment, row_index), filtered by the one
    customer filter's checked values (`segments.filters.CustomerFilterSet(...).check()`). Empty until the run has
    finished (a run still storing its rows shows none of them)."""
    from segments.filters import CustomerFilterSet

    qs = CustomerResult.objects.for_organization(analysis.organization).filter(analysis=analysis)
    if not analysis.customers_file:
        return qs.none()
    return CustomerFilterSet().filter_values(qs, filters).order_by("row_index")


@dataclass
class CustomerPage:
    rows: list[CustomerResult]
    after: int | None  # row_index this page started after
    next_after: int | None  # pass as `after` for the next page; None on the last page
    total: int | None  # exact when cheap or small
    total_capped: bool  # True: at least COUNT_CAP matches


def customer_page(
    *, analysis: Analysis, after: int | None = None, limit: int = 100, with_total: bool = True, **filters
) -> CustomerPage:
    """Keyset pagination on row_index: every page costs the same, on the first or the ten-thousandth page.

    The page itself costs a few milliseconds at a million customers. A total under range filters needs
    counting matches (capped at COUNT_CAP, ~100 ms at 1M on PostgreSQL); pass `with_total=False` (the API's
    cursor pages) to skip it: `total` is then None unless it is known without counting."""
    limit = max(1, min(int(limit), 500))
    qs = customer_results(analysis=analysis, **filters)
    page_qs = qs.filter(row_index__gt=after) if after is not None else qs
    rows = list(page_qs[: limit + 1])
    next_after = rows[limit - 1].row_index if len(rows) > limit else None
    rows = rows[:limit]
    active = {k: v for k, v in filters.items() if v not in (None, "")}
    if not active:
        total, capped = analysis.customer_count, False
    elif set(active) == {"segment"}:
        sizes = analysis.summary.get("segment_sizes") or {}
        total, capped = sizes.get(str(active["segment"]), 0), False
    elif with_total:
        total = qs.order_by()[:COUNT_CAP].count()
        capped = total >= COUNT_CAP
    else:
        total, capped = None, False
    return CustomerPage(rows=rows, after=after, next_after=next_after, total=total, total_capped=capped)


def analysis_overlap(*, a: Analysis, b: Analysis) -> dict | None:
    """Crosstab of two runs' segments over the same customers, and their adjusted Rand index."""
    if not (a.customers_file and b.customers_file) or a.customer_count != b.customer_count:
        return None
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from segsaas import storage

    sa = storage.read_parquet(a.customers_file, columns=["segment"])["segment"].to_numpy()
    sb = storage.read_parquet(b.customers_file, columns=["segment"])["segment"].to_numpy()
    table = pd.crosstab(sa, sb)
    return {
        "a_segments": [int(x) for x in table.index],
        "b_segments": [int(x) for x in table.columns],
        "matrix": table.to_numpy().astype(int).tolist(),
        "ari": float(adjusted_rand_score(sa, sb)),
    }


def dashboard(*, organization) -> dict:
    """What the dashboard shows: counts, the runs still going, the latest finished analysis's largest segments."""
    from accounts.models import Membership
    from datasets.models import Dataset
    from jobs.models import ACTIVE_STATUSES, Job
    from segments.services import JOB_KIND

    analyses = (
        Analysis.objects.for_organization(organization)
        .select_related("dataset", "job")
        .defer("metrics", "summary", "config", "dataset__profile", "dataset__schema", "job__params", "job__result")
        .order_by("-created_at")
    )
    latest = (
        Analysis.objects.for_organization(organization)
        .filter(job__status="succeeded", n_segments__isnull=False)
        .only("id", "name", "profiles", "customer_count")
        .order_by("-created_at")
        .first()
    )
    return {
        "member_count": Membership.objects.for_organization(organization).count(),
        "dataset_count": Dataset.objects.for_organization(organization).count(),
        "analysis_count": analyses.count(),
        "active_analysis_count": Job.objects.for_organization(organization)
        .filter(kind=JOB_KIND, status__in=ACTIVE_STATUSES)
        .count(),
        "recent_analyses": analyses[:6],
        "latest": latest,
        "latest_segments": sorted(latest.profiles, key=lambda p: -p.get("size", 0))[:6] if latest else [],
    }
