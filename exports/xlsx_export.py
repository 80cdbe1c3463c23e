"""The XLSX workbook: summary, segment profiles, recommendations, feature importance and customers.

xlsxwriter in constant-memory mode: each sheet is written row by row and flushed, so a million
customers cost the same memory as a thousand. Text from uploaded data is written with `write_string`
(never `write`, which would turn `=...` into a formula): a spreadsheet shows it as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime

from exports.sources import CUSTOMER_COLUMNS
from segments.engine.vocabulary import STRUCTURE_LABELS, algorithm_label, lifecycle_label, ltv_fidelity

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # one header row
BRAND = "#22307A"


class _Writer:
    """Typed cell writes: numbers as numbers, text always as text."""

    def __init__(self, sheet, formats):
        self.sheet, self.f = sheet, formats

    def cell(self, row: int, col: int, value, fmt=None):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            self.sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            self.sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            self.sheet.write_number(row, col, value, fmt)
        else:
            self.sheet.write_string(row, col, str(value), fmt)

    def header(self, row: int, titles: list[str]):
        for col, title in enumerate(titles):
            self.sheet.write_string(row, col, title, self.f["header"])


def _currency_name(code: str) -> str:
    from segments.engine.formatting import CURRENCIES

    return f"{code} ({CURRENCIES[code][1]})" if code in CURRENCIES else code


def _currency(code: str | None = None) -> str:
    from segments.engine.formatting import currency_symbol

    return currency_symbol(code).replace('"', "")


def _formats(book, currency: str | None = None) -> dict:
    base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
    return {
        "title": book.add_format({**base, "bold": True, "font_size": 16, "font_color": BRAND}),
        "subtitle": book.add_format({**base, "italic": True, "font_color": "#555555"}),
        "label": book.add_format({**base, "bold": True, "font_color": "#444444"}),
        "header": book.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": BRAND,
                "border": 1,
                "border_color": "#D0D5E8",
                "text_wrap": True,
                "valign": "vcenter",
            }
        ),
        "text": book.add_format(base),
        "wrap": book.add_format({**base, "text_wrap": True}),
        "int": book.add_format({**base, "num_format": "#,##0"}),
        # the organization's currency (the active one) on every money cell: "€"#,##0.00
        "money": book.add_format({**base, "num_format": f'"{_currency(currency)}"#,##0.00'}),
        "money0": book.add_format({**base, "num_format": f'"{_currency(currency)}"#,##0'}),
        "pct": book.add_format({**base, "num_format": "0.0%"}),
        "num": book.add_format({**base, "num_format": "#,##0.00"}),
        "num3": book.add_format({**base, "num_format": "0.000"}),
        "note": book.add_format({**base, "italic": True, "font_color": "#9C4221", "text_wrap": True}),
    }


def write_workbook(
    target,
    *,
    profiles: list[dict],
    metrics: dict,
    customer_batches: Iterable,
    customer_total: int,
    organization_name: str,
    analysis_name: str,
    generated_at: datetime,
    segment: int | None = None,
    customer_columns: list[tuple[str, str]] | None = None,
    max_rows: int = EXCEL_MAX_DATA_ROWS,
    progress: Callable[[str, float], None] | None = None,
    currency: str | None = None,
) -> dict:
    """Write the workbook to `target` (a path or binary file object). Returns what went into it. `currency`: the
    ISO code of the money figures (None: the active one); every sheet with money has a Currency column saying it
    (README: "Money in exports") and money cells show its symbol."""
    import xlsxwriter

    from segments.engine.formatting import active_currency

    currency = (currency or active_currency()).upper()

    progress = progress or (lambda stage, pct: None)
    book = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    book.set_properties(
        {
            "title": f"{analysis_name} – customer segments",
            "company": organization_name,
            "comments": "Exported from SegSaaS",
        }
    )
    fmt = _formats(book, currency)
    step = max(1, math.ceil(customer_total / max_rows)) if customer_total else 1
    sampled = step > 1
    profiles = sorted(profiles, key=lambda p: p.get("segment", 0))

    progress("Writing the summary", 2)
    _summary_sheet(
        book,
        fmt,
        profiles,
        metrics,
        customer_total,
        organization_name,
        analysis_name,
        generated_at,
        segment,
        step,
        currency,
    )
    _profiles_sheet(book, fmt, profiles, currency)
    _recommendations_sheet(book, fmt, profiles)
    _importance_sheet(book, fmt, metrics)
    progress("Writing customers", 5)
    written = _customers_sheet(
        book, fmt, customer_batches, customer_total, step, max_rows, sampled, progress, customer_columns
    )
    progress("Finishing the workbook", 98)
    book.close()
    return {"customers_written": written, "customers_total": customer_total, "sampled": sampled, "step": step}


def _summary_sheet(book, fmt, profiles, metrics, total, org, name, when, segment, step, currency):
    ws = book.add_worksheet("Summary")
    w = _Writer(ws, fmt)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 9, 15)
    ws.hide_gridlines(2)
    ws.write_string(0, 0, name, fmt["title"])
    ws.write_string(1, 0, f"{org} · customer segmentation · exported {when:%d %B %Y %H:%M} UTC", fmt["subtitle"])
    quality = metrics.get("quality") or {}
    ltv = metrics.get("ltv") or {}
    facts = [
        ("Customers analysed", metrics.get("n_rows") or sum(p.get("size", 0) for p in profiles), fmt["int"]),
        ("Segments", len([p for p in profiles if p.get("segment", 0) >= 0]), fmt["int"]),
        ("Algorithm", algorithm_label(metrics.get("algorithm")), fmt["text"]),
        ("Silhouette score", quality.get("silhouette"), fmt["num3"]),
        (
            "Segment structure",
            STRUCTURE_LABELS.get((metrics.get("segment_structure") or {}).get("strength"), "—"),
            fmt["text"],
        ),
        ("LTV model (fit to its target, not accuracy)", ltv_fidelity(ltv), fmt["text"]),
        ("Predicted LTV horizon (months)", ltv.get("horizon_months"), fmt["int"]),
        ("Customers in this workbook", total, fmt["int"]),
        ("Currency of money figures", _currency_name(currency), fmt["text"]),
    ]
    if segment is not None:
        facts.append(("Customers filtered to segment", segment, fmt["int"]))
    row = 3
    for label, value, f in facts:
        ws.write_string(row, 0, label, fmt["label"])
        w.cell(row, 1, value, f)
        row += 1
    if step > 1:
        row += 1
        ws.merge_range(
            row,
            0,
            row + 1,
            7,
            f"The Customers sheet holds a sample: every {step:,}th customer, because an Excel sheet stops at "
            f"{EXCEL_MAX_ROWS:,} rows and this export has {total:,} customers. The CSV export has all of them.",
            fmt["note"],
        )
        row += 2
    row += 1
    ws.write_string(row, 0, "Segments", fmt["label"])
    row += 1
    clv = any(p.get("clv") for p in profiles)
    headers = [
        "Segment",
        "Customers",
        "Share",
        "Avg CLV" if clv else "Avg predicted LTV",
        "Currency",
        "Avg churn risk",
        "Revenue share",
        "Value tier",
        "Risk level",
        "Engagement",
    ]
    w.header(row, headers)
    for p in profiles:
        row += 1
        w.cell(row, 0, f"{p.get('segment')} · {p.get('name', '')}", fmt["text"])
        w.cell(row, 1, p.get("size"), fmt["int"])
        w.cell(row, 2, p.get("share"), fmt["pct"])
        w.cell(row, 3, (p.get("clv") or {}).get("avg") if clv else p.get("avg_ltv"), fmt["money"])
        w.cell(row, 4, currency, fmt["text"])
        w.cell(row, 5, p.get("avg_churn_risk"), fmt["pct"])
        w.cell(row, 6, p.get("revenue_share"), fmt["pct"])
        w.cell(row, 7, p.get("value_tier"), fmt["text"])
        w.cell(row, 8, p.get("risk_level"), fmt["text"])
        w.cell(row, 9, p.get("engagement_level"), fmt["text"])


PROFILE_FIELDS = [
    ("segment", "Segment", "int", 9),
    ("name", "Name", "text", 24),
    ("size", "Customers", "int", 11),
    ("share", "Share", "pct", 9),
    ("value_tier", "Value tier", "text", 10),
    ("risk_level", "Risk level", "text", 10),
    ("engagement_level", "Engagement", "text", 11),
    ("avg_ltv", "Avg predicted LTV", "money", 14),
    ("median_ltv", "Median predicted LTV", "money", 14),
    ("currency", "Currency", "text", 9),  # of every money column of the sheet
    ("avg_churn_risk", "Avg churn risk", "pct", 11),
    ("total_revenue", "Total revenue", "money0", 15),
    ("revenue_share", "Revenue share", "pct", 10),
    ("avg_recency_days", "Avg days since last purchase", "num", 13),
    ("avg_frequency", "Avg purchases", "num", 11),
    ("avg_tenure_days", "Avg tenure (days)", "num", 11),
    ("growth_potential", "Growth ceiling, not a forecast (growth opportunities)", "money0", 16),
    ("development_potential", "Development ceiling, not a forecast (underperforming)", "money0", 16),
    ("avg_sentiment", "Avg review sentiment", "num3", 11),
]


# An order log's segments carry their CLV (segments.services.lifetime.segment_clv) instead of a predicted LTV.
CLV_PROFILE_FIELDS = [
    ("clv.avg", "Avg CLV", "money", 14),
    ("clv.avg_low", "Avg CLV low (10th percentile)", "money", 14),
    ("clv.avg_high", "Avg CLV high (90th percentile)", "money", 14),
    ("clv.total", "Total CLV", "money0", 15),
    ("clv.avg_p_active", "Avg probability active", "pct", 11),
    ("clv.avg_expected_purchases", "Avg expected purchases", "num", 11),
]


def _profile_fields(profiles) -> list[tuple]:
    """PROFILE_FIELDS, with the CLV in place of the predicted LTV for an order log's segments (one lifetime
    value per workbook)."""
    if not any(p.get("clv") for p in profiles):
        return PROFILE_FIELDS
    out = []
    for field in PROFILE_FIELDS:
        if field[0] == "avg_ltv":
            out.extend(CLV_PROFILE_FIELDS)
        elif field[0] != "median_ltv":
            out.append(field)
    return out


def _profile_value(p: dict, key: str):
    if key.startswith("clv."):
        return (p.get("clv") or {}).get(key[4:])
    return p.get(key)


def _profiles_sheet(book, fmt, profiles, currency):
    ws = book.add_worksheet("Segment profiles")
    fields = _profile_fields(profiles)
    w = _Writer(ws, fmt)
    stats = []
    for p in profiles:
        for feature in p.get("stats") or {}:
            if feature not in stats:
                stats.append(feature)
    stages = []
    for p in profiles:
        for stage in p.get("lifecycle") or {}:
            if stage not in stages:
                stages.append(stage)
    titles = [t for _, t, _, _ in fields] + ["Distinguishing features"]
    titles += [f"Lifecycle: {lifecycle_label(s).lower()}" for s in stages]
    titles += [f"{f} (mean)" for f in stats] + [f"{f} (median)" for f in stats]
    for col, (_, _, _, width) in enumerate(fields):
        ws.set_column(col, col, width)
    ws.set_column(len(fields), len(fields), 60)
    ws.set_column(len(fields) + 1, len(titles) - 1, 14)
    ws.set_row(0, 42)
    w.header(0, titles)
    ws.freeze_panes(1, 2)
    for row, p in enumerate(profiles, start=1):
        col = 0
        for key, _, kind, _ in fields:
            w.cell(row, col, currency if key == "currency" else _profile_value(p, key), fmt[kind])
            col += 1
        w.cell(row, col, "; ".join(_feature_phrase(d) for d in p.get("distinguishing_features") or []), fmt["wrap"])
        col += 1
        for stage in stages:
            w.cell(row, col, (p.get("lifecycle") or {}).get(stage), fmt["int"])
            col += 1
        for key in ("mean", "median"):
            for feature in stats:
                w.cell(row, col, ((p.get("stats") or {}).get(feature) or {}).get(key), fmt["num"])
                col += 1
    if profiles:
        ws.autofilter(0, 0, len(profiles), len(titles) - 1)


def _feature_phrase(d: dict) -> str:
    if d.get("text"):  # the engine's readable trait (engine traits.describe)
        return str(d["text"])
    z = d.get("z") or 0
    direction = "above" if z >= 0 else "below"
    return f"{d.get('feature')}: {d.get('segment_mean', 0):,.2f} vs {d.get('population_mean', 0):,.2f} overall ({abs(z):.1f} sd {direction})"


def _recommendations_sheet(book, fmt, profiles):
    ws = book.add_worksheet("Recommendations")
    w = _Writer(ws, fmt)
    for col, width in enumerate((9, 24, 10, 12, 60, 60)):
        ws.set_column(col, col, width)
    w.header(0, ["Segment", "Segment name", "Priority", "Category", "Recommended action", "Why"])
    ws.freeze_panes(1, 0)
    row = 0
    order = {"high": 0, "medium": 1, "low": 2}
    for p in profiles:
        for rec in sorted(p.get("recommendations") or [], key=lambda r: order.get(r.get("priority"), 3)):
            row += 1
            w.cell(row, 0, p.get("segment"), fmt["int"])
            w.cell(row, 1, p.get("name"), fmt["text"])
            w.cell(row, 2, rec.get("priority"), fmt["text"])
            w.cell(row, 3, rec.get("category"), fmt["text"])
            w.cell(row, 4, rec.get("action"), fmt["wrap"])
            w.cell(row, 5, rec.get("reason"), fmt["wrap"])
    if row:
        ws.autofilter(0, 0, row, 5)


def _importance_sheet(book, fmt, metrics):
    ws = book.add_worksheet("Feature importance")
    w = _Writer(ws, fmt)
    ws.set_column(0, 0, 32)
    ws.set_column(1, 3, 14)
    w.header(0, ["Feature", "Importance", "Random forest", "Mutual information"])
    ws.freeze_panes(1, 0)
    for row, d in enumerate(metrics.get("feature_importance") or [], start=1):
        w.cell(row, 0, d.get("feature"), fmt["text"])
        w.cell(row, 1, d.get("importance"), fmt["pct"])
        w.cell(row, 2, d.get("rf"), fmt["num3"])
        w.cell(row, 3, d.get("mi"), fmt["num3"])


def _customers_sheet(book, fmt, batches, total, step, max_rows, sampled, progress, columns=None) -> int:
    ws = book.add_worksheet("Customers (sample)" if sampled else "Customers")
    columns = columns or CUSTOMER_COLUMNS
    names = [name for name, _ in columns]
    widths = {
        "customer_id": 16,
        "segment": 9,
        "segment_name": 22,
        "churn_risk": 11,
        "predicted_ltv": 14,
        "currency": 9,
        "value_tier": 10,
        "risk_level": 10,
        "engagement_level": 11,
        "lifecycle_stage": 13,
        "top_recommendation": 50,
        "recommendation": 50,
        "recommendation_reason": 50,
    }
    kinds = {
        "segment": fmt["int"],
        "churn_risk": fmt["pct"],
        "predicted_ltv": fmt["money"],
        "p_active": fmt["pct"],
        "expected_purchases": fmt["num"],
        "clv": fmt["money"],
        "clv_low": fmt["money"],
        "clv_high": fmt["money"],
    }
    for col, name in enumerate(names):
        ws.set_column(col, col, widths.get(name, 14))
    for col, (_, title) in enumerate(columns):
        ws.write_string(0, col, title, fmt["header"])
    ws.freeze_panes(1, 0)
    row, seen = 0, 0
    write_number, write_string, text = ws.write_number, ws.write_string, fmt["text"]
    for batch in batches:
        columns = [batch.column(name).to_pylist() for name in names]
        n = batch.num_rows
        start = (-seen) % step  # keep every step-th customer across batch boundaries
        for i in range(start, n, step):
            if row >= max_rows:
                break
            row += 1
            for col, name in enumerate(names):
                value = columns[col][i]
                if value is None or (isinstance(value, float) and not math.isfinite(value)):
                    continue
                if name in kinds:
                    write_number(row, col, value, kinds[name])
                elif name == "lifecycle_stage":
                    write_string(row, col, lifecycle_label(value), text)
                else:
                    write_string(row, col, str(value), text)
        seen += n
        if total:
            progress(f"Writing customers ({min(seen, total):,} of {total:,})", 5 + 92 * min(seen, total) / total)
    ws.autofilter(0, 0, max(row, 1), len(names) - 1)
    return row
