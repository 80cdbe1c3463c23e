"""The JSON export: the segment profiles in the shape of the API's `analyses/{id}/segments/` response
(`analysis`, `count`, `results`), plus a few descriptive fields (additive, as the API schema allows)."""

from __future__ import annotations

from datetime import datetime


def profiles_document(
    *,
    analysis_id: int,
    analysis_name: str,
    organization_name: str,
    profiles: list[dict],
    metrics: dict,
    customer_count: int,
    generated_at: datetime,
    currency: str = "",
) -> dict:
    results = sorted(profiles, key=lambda p: p.get("segment", 0))
    return {
        "analysis": analysis_id,
        "count": len(results),
        "results": results,
        "analysis_name": analysis_name,
        "organization": organization_name,
        "currency": currency or None,  # ISO 4217 code of every money figure (avg_ltv, total_revenue, ...)
        "algorithm": metrics.get("algorithm"),
        "customer_count": customer_count,
        "silhouette": (metrics.get("quality") or {}).get("silhouette"),
        "engine_version": metrics.get("engine_version"),
        "generated_at": generated_at.isoformat(),
    }
