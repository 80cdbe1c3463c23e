"""Reads of analyses and their per-customer results (pages, API and exports share these)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from segments.models import Analysis, CustomerResult

COUNT_CAP = 10_000
DASHBOARD_SEGMENTS = 6  # the dashboard lists the latest analysis's largest segments, and says how many it leaves out  # beyond this a filtered count is shown as "10,000+" instead of counting a million rows


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
        Analysis.objects.for_organization(organization).select_related(
            "dataset", "dataset_version", "job", "created_by", "rerun_of"
        ),
        organization,
        pk=analysis_id,
    )


def analysis_profiles(*, analysis: Analysis) -> list[dict]:
    """The segment profiles, by segment; recommendations' reasons and the traits' sentences quote money in the
    active (the organization's) currency, whatever it was when the analysis ran."""
    from segments.advice import advice_in_currency
    from segments.engine.recommend import recommendations_in_active_currency

    population = ((analysis.metrics or {}).get("insights") or {}).get("population") or {}
    profiles = sorted(analysis.profiles or [], key=lambda p: p["segment"])
    profiles = recommendations_in_active_currency(profiles, population)
    return [
        {
            **p,
            "distinguishing_features": [
                {**d, "text": advice_in_currency(d["text"])} if d.get("text") else d
                for d in p.get("distinguishing_features") or []
            ],
        }
        if p.get("distinguishing_features")
        else p
        for p in profiles
    ]


def customer_results(*, analysis: Analysis, **filters) -> QuerySet[CustomerResult]:
    """This analysis's customers, filtered and sorted (default: the table's order; index: analysis, segment,
    row_index) by the one customer filter's checked values (`segments.filters.CustomerFilterSet(...).check()`). Empty until the run has
    finished (a run still storing its rows shows none of them)."""
    from segments.filters import CustomerFilterSet

    qs = CustomerResult.objects.for_organization(analysis.organization).filter(analysis=analysis)
    if not analysis.customers_file:
        return qs.none()
    return CustomerFilterSet().filter_values(qs, filters)


PAGE_SIZES = (25, 50, 100, 200)


@dataclass
class CustomerPage:
    rows: list[CustomerResult]
    number: int  # 1-based
    size: int
    total: int | None  # None: not counted (the API's cursor pages skip it)
    total_capped: bool  # True: at least COUNT_CAP matches, the count stopped there

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int | None:
        """How many pages there are (None while the count is capped)."""
        if self.total is None or self.total_capped:
            return None
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return len(self.rows) == self.size and (self.total is None or self.total_capped or self.last_row < self.total)


def customer_page(
    *, analysis: Analysis, page: int = 1, size: int = 50, with_total: bool = True, **filters
) -> CustomerPage:
    """One numbered page of the customers `filters` select, sorted as they say (`sort`, default the table's
    order). The total is known without counting for the whole table and for one segment; otherwise matches are
    counted up to COUNT_CAP (~100 ms at 1M on PostgreSQL), or not at all with `with_total=False`."""
    size = size if size in PAGE_SIZES else PAGE_SIZES[1]
    page = max(1, int(page))
    qs = customer_results(analysis=analysis, **filters)
    rows = list(qs[(page - 1) * size : page * size])
    active = {k for k, v in filters.items() if v not in (None, "", []) and k != "sort"}
    if not active:
        total, capped = analysis.customer_count, False
    elif active == {"segment"}:
        sizes = analysis.summary.get("segment_sizes") or {}
        total, capped = sizes.get(str(filters["segment"]), 0), False
    elif with_total:
        total = qs.order_by()[:COUNT_CAP].count()
        capped = total >= COUNT_CAP
    else:
        total, capped = None, False
    return CustomerPage(rows=rows, number=page, size=size, total=total, total_capped=capped)


def analysis_overlap(*, a: Analysis, b: Analysis) -> dict | None:
    """Crosstab of two runs' segments over the same customers, and their adjusted Rand index."""
    if not (a.customers_file and b.customers_file) or a.customer_count != b.customer_count:
        return None
    if a.dataset_version_id != b.dataset_version_id:
        return None  # rows of two versions are not the same customers: the Changes tab matches them by id
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
        .only("id", "name", "profiles", "customer_count", "n_segments")
        .order_by("-created_at")
        .first()
    )
    shown = sorted(latest.profiles, key=lambda p: -p.get("size", 0))[:DASHBOARD_SEGMENTS] if latest else []
    return {
        "member_count": Membership.objects.for_organization(organization).count(),
        "dataset_count": Dataset.objects.for_organization(organization).count(),
        "analysis_count": analyses.count(),
        "active_analysis_count": Job.objects.for_organization(organization)
        .filter(kind=JOB_KIND, status__in=ACTIVE_STATUSES)
        .count(),
        "recent_analyses": analyses[:6],
        "latest": latest,
        "latest_segments": shown,
        "latest_hidden": len(latest.profiles) - len(shown) if latest else 0,
    }
