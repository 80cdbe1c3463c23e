"""Segments over time: a re-run's segments matched to its predecessor's (continuity), who moved where between two
runs of the same dataset (migration), and the dataset's history across runs.

- `apply_continuity(analysis, result)` (in the worker, before the results are stored) renumbers a re-run's
  segments with the engine's `continuity.match_segments` against the run it re-runs, so a group that stays keeps
  its number, colour and name.
- `migration(to_run, from_run)` counts customers (matched by id) by (segment before, segment after), plus the new
  and gone customers; `migration_movers(...)` the customers of one cell, for the CSV download.
- `dataset_history(dataset)` the finished runs of a dataset in order, with each segment's share, churn and LTV.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from segments.engine.errors import UserFacingError
from segments.models import Analysis
from segsaas import storage

log = logging.getLogger(__name__)


class MigrationError(UserFacingError):
    """Two runs that cannot be compared customer by customer; `field` names the parameter at fault."""


def previous_run(analysis: Analysis) -> Analysis | None:
    """The finished run this one's segments are matched to: the run it re-runs, when that one is a finished run of
    the same dataset."""
    prev = analysis.rerun_of
    if prev is None or prev.dataset_id != analysis.dataset_id or not prev.customers_file or not prev.profiles:
        return None
    return prev


def _read_segments(run: Analysis):
    return storage.read_parquet(run.customers_file, columns=["customer_id", "segment"])


def apply_continuity(analysis: Analysis, result) -> dict | None:
    """Renumber `result` (an engine `AnalysisResult`) to match the previous run's segments. Returns what to keep in
    the analysis's summary ({"previous_analysis", "method", "status", "vanished", ...}), or None (no previous run)."""
    from segments.engine.continuity import match_segments, relabel_result

    prev = previous_run(analysis)
    if prev is None:
        return None
    try:
        before = _read_segments(prev)
    except FileNotFoundError:
        log.warning("Analysis %s: the previous run's customers file is gone; no continuity", analysis.pk)
        return None
    has_ids = bool((prev.metrics or {}).get("id_column")) and bool((result.metrics or {}).get("id_column"))
    match = match_segments(
        prev_profiles=prev.profiles,
        new_profiles=result.profiles,
        prev_ids=before["customer_id"].to_numpy() if has_ids else None,
        prev_segments=before["segment"].to_numpy(),
        new_ids=result.customers["customer_id"].to_numpy() if has_ids else None,
        new_segments=result.customers["segment"].to_numpy(),
    )
    relabel_result(result, match)
    return {"previous_analysis": prev.pk, **match.to_dict()}


# --- migration ------------------------------------------------------------------------------------


@dataclass
class Migration:
    before: Analysis
    after: Analysis
    cells: list[dict]  # {from_segment, from_name, to_segment, to_name, customers}
    new_customers: int
    gone_customers: int
    matched_customers: int

    def as_api(self) -> dict:
        return {
            "from": self.before.pk,
            "to": self.after.pk,
            "matrix": self.cells,
            "new_customers": self.new_customers,
            "gone_customers": self.gone_customers,
        }


def _check_pair(after: Analysis, before: Analysis) -> None:
    if before.pk == after.pk:
        raise MigrationError("Choose another run to compare with: a run has no changes from itself.", field="from")
    if before.dataset_id != after.dataset_id:
        raise MigrationError(
            f"Analysis {before.pk} is of another dataset; changes are counted between runs of the same dataset.",
            field="from",
        )
    for run in (before, after):
        if not run.is_ready:
            raise MigrationError(f"Analysis {run.pk} has no results yet (status: {run.status}).", field="from")
    if not (before.metrics or {}).get("id_column") or not (after.metrics or {}).get("id_column"):
        raise MigrationError(
            "Customers can only be followed between runs that have a customer id column.", field="from"
        )


def _joined(after: Analysis, before: Analysis):
    a = _read_segments(before).drop_duplicates("customer_id")
    b = _read_segments(after).drop_duplicates("customer_id")
    a["customer_id"] = a["customer_id"].astype(str)
    b["customer_id"] = b["customer_id"].astype(str)
    return a.merge(b, on="customer_id", how="outer", suffixes=("_from", "_to"), indicator=True)


def migration(*, after: Analysis, before: Analysis) -> Migration:
    """Customers (matched by id) by segment in `before` and in `after`. Raises MigrationError naming `from`."""
    _check_pair(after, before)
    joined = _joined(after, before)
    both = joined[joined["_merge"] == "both"]
    counts = both.groupby(["segment_from", "segment_to"]).size()
    names_from = {p["segment"]: p.get("name", "") for p in before.profiles}
    names_to = {p["segment"]: p.get("name", "") for p in after.profiles}
    cells = [
        {
            "from_segment": int(f),
            "from_name": names_from.get(int(f), f"Segment {int(f)}"),
            "to_segment": int(t),
            "to_name": names_to.get(int(t), f"Segment {int(t)}"),
            "customers": int(n),
        }
        for (f, t), n in sorted(counts.items())
    ]
    return Migration(
        before=before,
        after=after,
        cells=cells,
        new_customers=int((joined["_merge"] == "right_only").sum()),
        gone_customers=int((joined["_merge"] == "left_only").sum()),
        matched_customers=len(both),
    )


def migration_mover_ids(*, after: Analysis, before: Analysis, from_segment: int, to_segment: int) -> list[str]:
    """The ids of the customers in `from_segment` before and `to_segment` after."""
    _check_pair(after, before)
    joined = _joined(after, before)
    cell = joined[
        (joined["_merge"] == "both")
        & (joined["segment_from"] == int(from_segment))
        & (joined["segment_to"] == int(to_segment))
    ]
    return cell["customer_id"].tolist()


def migration_movers_csv(*, after: Analysis, before: Analysis, from_segment: int, to_segment: int):
    """The customers who were in `from_segment` before and are in `to_segment` after, as CSV with the customers
    export's columns (their results in the later run), streamed batch by batch (`exports.csv_export`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from exports.csv_export import csv_chunks
    from exports.sources import iter_customer_batches, open_customers_file
    from segsaas.storage import Download

    ids = pa.array(migration_mover_ids(after=after, before=before, from_segment=from_segment, to_segment=to_segment))
    currency = after.organization.currency  # sent after the request has ended: named, not the active one

    def stream():
        with open_customers_file(after) as fh:
            batches = (
                batch.filter(pc.fill_null(pc.is_in(batch.column("customer_id").cast(pa.string()), ids), False))
                for batch in iter_customer_batches(fh, currency=currency)
            )
            yield from csv_chunks(b for b in batches if b.num_rows)

    name = f"analysis-{after.pk}-movers-from-{before.pk}-segment-{int(from_segment)}-to-{int(to_segment)}.csv"
    return Download(filename=name, content_type="text/csv; charset=utf-8", chunks=stream())


def migration_default_before(analysis: Analysis) -> Analysis | None:
    """The run a Changes tab compares with by default: the one this run re-ran, else the latest earlier finished
    run of the same dataset."""
    prev = previous_run(analysis)
    if prev is not None and prev.is_ready:
        return prev
    return (
        Analysis.objects.for_organization(analysis.organization)
        .filter(dataset_id=analysis.dataset_id, job__status="succeeded", created_at__lt=analysis.created_at)
        .exclude(pk=analysis.pk)
        .order_by("-created_at")
        .first()
    )


# --- history --------------------------------------------------------------------------------------


def dataset_history(dataset) -> list[Analysis]:
    """The dataset's finished runs, oldest first."""
    return list(
        Analysis.objects.for_organization(dataset.organization)
        .filter(dataset=dataset, job__status="succeeded")
        .filter(n_segments__isnull=False)
        .select_related("dataset_version")
        .defer("metrics", "summary")
        .order_by("created_at")
    )
