"""A run without a predicted LTV (the real telecom table: account_length has no stated unit, so no duration and no
LTV) offers no LTV filter or sort: the Profiles tab leaves out the "LTV ≥/≤" inputs, the LTV sort and the
Predicted LTV column and says why; the Data tab says the LTV horizon was not used; the one customer filter refuses
`ltv_min`, `ltv_max` and `sort=ltv` with the reason, on the page, in the API (the one error format) and in the
CSV export, and nothing is listed or written. The rule is the charts' one (`Analysis.has_ltv`)."""

import pytest
from helpers import analysed_upload, real_table

pytestmark = pytest.mark.django_db


def test_a_run_without_ltv_offers_no_ltv_filter_and_refuses_one_saying_why(people, client_for):
    from accounts.services import api_key_create
    from exports.models import Export

    analysis = analysed_upload(people, real_table().read_bytes(), "mlc_churn.csv")
    assert not analysis.has_ltv
    reason = analysis.metrics["ltv"]["reason"]
    assert "unit" in reason

    client = client_for(people.alice, people.acme)
    page = client.get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    assert 'name="ltv_min"' not in page and 'name="ltv_max"' not in page and "LTV ≥" not in page
    assert 'value="-ltv"' not in page and 'data-testid="sort-ltv"' not in page and "Predicted LTV</a>" not in page
    assert 'data-testid="no-ltv-filter"' in page and reason in page
    assert 'name="churn_risk_min"' in page and 'value="-churn_risk"' in page

    # an old link with an LTV filter or sort: refused beside the field with the reason, nothing listed
    for query in ("ltv_min=100", "sort=-ltv"):
        refused = client.get(f"/analyses/{analysis.pk}/profiles/?{query}").content.decode()
        assert 'data-testid="filter-refused"' in refused and 'data-testid="customer-rows"' not in refused
        assert "has no predicted LTV" in refused and reason in refused

    data_tab = client.get(f"/analyses/{analysis.pk}/").content.decode()
    assert (
        '<td class="text-end">12 months</td>' not in data_tab and '<td class="text-end mono">12 months' not in data_tab
    )
    assert (
        '<th class="fw-normal">LTV horizon</th><td class="text-end">not used: this run has no predicted LTV' in data_tab
    )
    assert 'data-testid="ltv-fidelity"' not in data_tab

    key = api_key_create(organization=people.acme, name="CRM", scopes=["read", "export"], created_by=people.alice)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    api = client_for(people.alice, people.acme)
    api.logout()
    exports_before = Export.objects.for_organization(people.acme).count()
    for params, field in (
        ({"ltv_min": "100"}, "ltv_min"),
        ({"ltv_max": "5"}, "ltv_max"),
        ({"sort": "-ltv"}, "sort"),
    ):
        for url in (f"/api/v1/analyses/{analysis.pk}/customers/", f"/api/v1/analyses/{analysis.pk}/export/"):
            extra = {"format": "csv"} if url.endswith("export/") else {}
            response = api.get(url, {**params, **extra}, **auth)
            if url.endswith("export/") and field == "sort":
                continue  # the CSV keeps the table's order: it takes no sort
            assert response.status_code == 400, (url, params, response.content[:300])
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}
            assert field in error["details"], error
            assert "has no predicted LTV" in error["details"][field][0] and reason in error["details"][field][0]
    assert Export.objects.for_organization(people.acme).count() == exports_before
    # what the run has still filters
    ok = api.get(f"/api/v1/analyses/{analysis.pk}/customers/", {"churn_risk_min": "0.5", "sort": "-churn_risk"}, **auth)
    assert ok.status_code == 200 and ok.json()["results"]
