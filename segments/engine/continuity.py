"""Continuity between two runs: which of a new run's segments is which of the previous run's.

`match_segments()` pairs the new run's segments with the previous run's:

- by customer overlap when customer ids match (at least `MIN_SHARED_SHARE` of the new run's customers were in the
  previous run): the Hungarian assignment (`scipy.optimize.linear_sum_assignment`) on the matrix of customers in
  both (previous segment i, new segment j), maximising the customers kept together; a pair counts as the same
  group when its Jaccard overlap (customers in both / customers in either) is at least `MIN_JACCARD`;
- else by centre distance: each segment's mean of the columns both runs profiled, standardised per column, the
  Hungarian assignment on the Euclidean distances; a pair counts as the same group when it is closer than half
  the median distance between the previous run's centres.

Matched segments take the previous segment's number (so its colour) and name; the others are new and take numbers
after the previous run's highest; previous segments without a successor are vanished. Noise (-1) stays -1.
`relabel_result()` applies the numbering to an `AnalysisResult` (customers, profiles, insights, the model's names,
recommendations and its `segment_map`, so scoring answers with the same numbers).

Plain Python, NumPy and SciPy: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_SHARED_SHARE = 0.2
MIN_JACCARD = 0.2
NOISE = -1


@dataclass
class SegmentMatch:
    """`mapping` {new run's engine label: its number}; `status` {number: "continued" | "new"}; `vanished` the
    previous numbers with no successor; `overlap` {number: Jaccard overlap with its predecessor} (overlap method);
    `method` "overlap" or "centres"; `previous_names` {number: the predecessor's name}."""

    mapping: dict[int, int]
    status: dict[int, str]
    vanished: list[int]
    method: str
    overlap: dict[int, float] = field(default_factory=dict)
    previous_names: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "mapping": {str(k): v for k, v in self.mapping.items()},
            "status": {str(k): v for k, v in self.status.items()},
            "vanished": list(self.vanished),
            "overlap": {str(k): v for k, v in self.overlap.items()},
            "previous_names": {str(k): v for k, v in self.previous_names.items()},
        }


def overlap_matrix(prev_ids, prev_segments, new_ids, new_segments) -> tuple[np.ndarray, list[int], list[int], int]:
    """Customers in both runs, by (previous segment, new segment). Returns (matrix, previous segments, new
    segments, customers in both). Ids are compared as text."""
    import pandas as pd

    prev = pd.DataFrame({"id": pd.Series(prev_ids).astype(str).to_numpy(), "a": np.asarray(prev_segments)})
    new = pd.DataFrame({"id": pd.Series(new_ids).astype(str).to_numpy(), "b": np.asarray(new_segments)})
    prev = prev.drop_duplicates("id")
    new = new.drop_duplicates("id")
    both = prev.merge(new, on="id", how="inner")
    rows = sorted(int(s) for s in set(prev["a"]) if s != NOISE)
    cols = sorted(int(s) for s in set(new["b"]) if s != NOISE)
    matrix = np.zeros((len(rows), len(cols)), dtype=np.int64)
    if len(both):
        counts = both.groupby(["a", "b"]).size()
        r_index, c_index = {s: i for i, s in enumerate(rows)}, {s: j for j, s in enumerate(cols)}
        for (a, b), n in counts.items():
            if int(a) in r_index and int(b) in c_index:
                matrix[r_index[int(a)], c_index[int(b)]] = int(n)
    return matrix, rows, cols, len(both)


def _centre_vectors(profiles: list[dict], columns: list[str]) -> dict[int, np.ndarray]:
    out = {}
    for p in profiles:
        if p.get("segment", NOISE) == NOISE:
            continue
        stats = p.get("stats") or {}
        out[int(p["segment"])] = np.array(
            [float((stats.get(c) or {}).get("mean") or 0.0) for c in columns], dtype=float
        )
    return out


def _common_columns(prev_profiles: list[dict], new_profiles: list[dict]) -> list[str]:
    def cols(profiles):
        found = None
        for p in profiles:
            if p.get("segment", NOISE) == NOISE:
                continue
            numeric = {c for c, s in (p.get("stats") or {}).items() if isinstance((s or {}).get("mean"), int | float)}
            found = numeric if found is None else found & numeric
        return found or set()

    return sorted(cols(prev_profiles) & cols(new_profiles))


def match_segments(
    *,
    prev_profiles: list[dict],
    new_profiles: list[dict],
    prev_ids=None,
    prev_segments=None,
    new_ids=None,
    new_segments=None,
) -> SegmentMatch:
    """Pair the new run's segments with the previous run's (see the module's docstring)."""
    from scipy.optimize import linear_sum_assignment

    prev_numbers = sorted(int(p["segment"]) for p in prev_profiles if p.get("segment", NOISE) != NOISE)
    new_labels = sorted(int(p["segment"]) for p in new_profiles if p.get("segment", NOISE) != NOISE)
    prev_names = {int(p["segment"]): str(p.get("name", "")) for p in prev_profiles}
    pairs: dict[int, int] = {}  # new label -> previous number
    overlap: dict[int, float] = {}
    method = "centres"
    if prev_ids is not None and new_ids is not None and len(new_ids):
        matrix, rows, cols, shared = overlap_matrix(prev_ids, prev_segments, new_ids, new_segments)
        if shared >= MIN_SHARED_SHARE * len(new_ids) and matrix.size:
            method = "overlap"
            prev_sizes = matrix.sum(axis=1)
            new_sizes = matrix.sum(axis=0)
            r, c = linear_sum_assignment(-matrix)
            for i, j in zip(r, c, strict=True):
                union = prev_sizes[i] + new_sizes[j] - matrix[i, j]
                jaccard = float(matrix[i, j] / union) if union else 0.0
                if jaccard >= MIN_JACCARD:
                    pairs[cols[j]] = rows[i]
                    overlap[cols[j]] = round(jaccard, 4)
    if method == "centres":
        columns = _common_columns(prev_profiles, new_profiles)
        prev_c, new_c = _centre_vectors(prev_profiles, columns), _centre_vectors(new_profiles, columns)
        if columns and prev_c and new_c:
            a = np.array([prev_c[s] for s in prev_numbers])
            b = np.array([new_c[s] for s in new_labels])
            scale = np.vstack([a, b]).std(axis=0)
            scale[scale == 0] = 1.0
            a, b = a / scale, b / scale
            dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
            between = [np.linalg.norm(a[i] - a[j]) for i in range(len(a)) for j in range(i + 1, len(a))]
            limit = 0.5 * float(np.median(between)) if between else float("inf")
            r, c = linear_sum_assignment(dist)
            for i, j in zip(r, c, strict=True):
                if dist[i, j] <= limit:
                    pairs[new_labels[j]] = prev_numbers[i]
    mapping: dict[int, int] = {}
    status: dict[int, str] = {}
    next_number = max([*prev_numbers, NOISE]) + 1
    for label in new_labels:
        if label in pairs:
            mapping[label] = pairs[label]
            status[pairs[label]] = "continued"
        else:
            mapping[label] = next_number
            status[next_number] = "new"
            next_number += 1
    if any(p.get("segment") == NOISE for p in new_profiles):
        mapping[NOISE] = NOISE
    vanished = [s for s in prev_numbers if s not in set(pairs.values())]
    return SegmentMatch(
        mapping=mapping,
        status=status,
        vanished=vanished,
        method=method,
        overlap={mapping[k]: v for k, v in overlap.items()},
        previous_names={mapping[k]: prev_names[v] for k, v in pairs.items()},
    )


def _relabel_nested(value, mapping: dict[int, int], names: dict[int, str]):
    if isinstance(value, dict):
        out = {k: _relabel_nested(v, mapping, names) for k, v in value.items()}
        if isinstance(out.get("segment"), int) and out["segment"] in mapping:
            old = value["segment"]
            out["segment"] = mapping[old]
            if "name" in out and out["segment"] in names:
                out["name"] = names[out["segment"]]
        return out
    if isinstance(value, list):
        return [_relabel_nested(v, mapping, names) for v in value]
    return value


def relabel_result(result, match: SegmentMatch):
    """Renumber an `AnalysisResult` in place by `match` (continued segments also take their predecessor's name).
    Returns the result."""
    mapping, names = match.mapping, dict(match.previous_names)
    lookup = np.vectorize(lambda s: mapping.get(int(s), int(s)), otypes=[np.int64])
    result.profiles = sorted(_relabel_nested(result.profiles, mapping, names), key=lambda p: p["segment"])
    kept = {p["name"] for p in result.profiles if match.status.get(p["segment"]) == "continued"}
    for p in result.profiles:
        p["continuity"] = match.status.get(p["segment"], "noise" if p["segment"] == NOISE else "new")
        if p["continuity"] == "new" and p.get("name") in kept:  # a new group never passes for a kept one
            p["name"] = f"{p['name']} (new)"
            names[p["segment"]] = p["name"]
    customers = result.customers
    if len(customers):
        customers["segment"] = lookup(customers["segment"].to_numpy())
        if "segment_name" in customers:
            new_names = customers["segment"].map(names)
            customers["segment_name"] = new_names.where(new_names.notna(), customers["segment_name"])
    metrics = result.metrics
    if isinstance(metrics.get("insights"), dict):
        metrics["insights"] = _relabel_nested(metrics["insights"], mapping, names)
    model = result.model
    model.segment_names = {mapping.get(s, s): names.get(mapping.get(s, s), n) for s, n in model.segment_names.items()}
    model.segment_recommendations = {mapping.get(s, s): r for s, r in model.segment_recommendations.items()}
    model.segment_map = {int(k): int(v) for k, v in mapping.items()}
    return result
