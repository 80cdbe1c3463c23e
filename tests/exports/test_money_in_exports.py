"""Every export that carries money says its currency (one rule: a `currency` column with the ISO code beside
unchanged money column names; JSON a top-level `currency`), and each customer's own advice quotes its figures in
the organization's currency of today: a currency change reaches the page, the API and every export without a
re-run."""

import html as html_lib
import io
import json
import re

import openpyxl
import pandas as pd
import pytest

from segments.advice import advice_in_currency

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r"(?<![^\s(−])\$(?=\d)")  # a dollar figure


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv(client, analysis, **params) -> pd.DataFrame:
    query = "&".join(f"{k}={v}" for k, v in {"format": "csv", **params}.items())
    body = _body(client.get(f"/reports/analyses/{analysis.pk}/download/?{query}"))
    return pd.read_csv(io.BytesIO(body), keep_default_na=False)


def test_advice_is_written_again_in_another_currency_figure_by_figure():
    text = "own predicted LTV $1,240 vs $870.50 for the average customer"
    assert advice_in_currency(text, "EUR") == "own predicted LTV €1,240 vs €870.50 for the average customer"
    assert (
        advice_in_currency("own spend −CA$12 vs CHF\u00a0870 (US$ plan)", "GBP") == "own spend −£12 vs £870 (US$ plan)"
    )
    # a symbol that starts no figure (a column name) stays; an empty advice stays empty
    assert advice_in_currency("own engagement below average (on price$ and $ spent)", "EUR").endswith("$ spent)")
    assert advice_in_currency("", "EUR") == "" and advice_in_currency(None, "EUR") is None


def test_a_currency_change_reaches_each_customer_s_advice_and_every_export_without_a_rerun(
    people, client_for, finished_analysis
):
    from accounts.services import organization_update
    from segments.models import CustomerResult

    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.alice, people.acme)
    before = _csv(client, analysis)
    names = list(before.columns)
    assert names[names.index("predicted_ltv") + 1] == "currency" and set(before["currency"]) == {"USD"}
    quoted = before["recommendation_reason"].str.contains(FIGURE)
    assert quoted.sum() > 20, "the run's advice quotes dollar figures"
    stored = set(
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=analysis)
        .values_list("recommendation_reason", flat=True)
    )

    organization_update(organization=people.acme, actor=people.alice, currency="EUR", name="Acme Retail")

    after = _csv(client, analysis)
    assert set(after["currency"]) == {"EUR"}
    assert not after["recommendation_reason"].str.contains(FIGURE).any()
    assert (after["recommendation_reason"] == before["recommendation_reason"].str.replace("$", "€")).all()
    # nothing was run again: the stored rows still say what the run wrote
    assert (
        set(
            CustomerResult.objects.for_organization(people.acme)
            .filter(analysis=analysis)
            .values_list("recommendation_reason", flat=True)
        )
        == stored
    )

    # a filtered list (the Profiles tab's search) says its currency too
    filtered = _csv(client, analysis, churn_risk_min=0.5)
    assert len(filtered) and set(filtered["currency"]) == {"EUR"}

    # the page
    page = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/profiles/?size=100").content.decode())
    cells = re.findall(r'data-testid="customer-advice">(.*?)</td>', page, re.S)
    assert len(cells) == 100 and any("€" in c for c in cells)
    assert not any(FIGURE.search(c) for c in cells)

    # the API (the person's session; an API key's answer is the same: it activates the organization's currency)
    api = client.get(f"/api/v1/analyses/{analysis.pk}/customers/?page_size=1000").json()
    reasons = [r["recommendation_reason"] for r in api["results"]]
    assert any("€" in r for r in reasons) and not any(FIGURE.search(r) for r in reasons)

    # the workbook: a Currency column on every sheet with money, advice in euros
    book = openpyxl.load_workbook(
        io.BytesIO(_body(client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx"))), read_only=True
    )
    rows = list(book["Customers"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[header.index("Predicted LTV") + 1] == "Currency"
    assert {r[header.index("Currency")] for r in rows[1:]} == {"EUR"}
    why = [r[header.index("Why (this customer's own figures)")] or "" for r in rows[1:]]
    assert any("€" in w for w in why) and not any(FIGURE.search(w) for w in why)
    profiles = list(book["Segment profiles"].iter_rows(values_only=True))
    assert {r[profiles[0].index("Currency")] for r in profiles[1:]} == {"EUR"}
    summary = [c for r in book["Summary"].iter_rows(values_only=True) for c in r if c]
    assert "EUR (Euro)" in summary and "Currency" in summary
    traits = " ".join(str(r[profiles[0].index("Distinguishing features")]) for r in profiles[1:])
    assert not FIGURE.search(traits)

    # the JSON export names it once for the document
    document = json.loads(_body(client.get(f"/reports/analyses/{analysis.pk}/download/?format=json")))
    assert document["currency"] == "EUR"
    texts = json.dumps([d for p in document["results"] for d in p.get("distinguishing_features") or []])
    assert not FIGURE.search(texts)
