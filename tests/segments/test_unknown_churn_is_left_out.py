"""A table with no churn label and no recency, frequency or tenure: churn risk cannot be estimated, so it is
stored as unknown (NULL) and shown as "—", never as a placeholder 50 % or 0 %."""

import io
import re

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.django_db


def test_churn_risk_without_evidence_is_unknown_everywhere(people, client_for):
    from datasets.services import dataset_create_from_upload
    from jobs.services import job_execute
    from segments.models import CustomerResult
    from segments.services import analysis_create

    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "member": [f"M{i:04d}" for i in range(400)],
            "visits": rng.poisson(6, 400),
            "tickets": rng.poisson(1, 400),
            "total_spend": rng.gamma(2.0, 60.0, 400).round(2),
        }
    )
    dataset = dataset_create_from_upload(
        organization=people.acme,
        uploaded_by=people.alice,
        file=io.BytesIO(frame.to_csv(index=False).encode()),
        filename="members.csv",
    )
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 3, "nlp": False}, created_by=people.alice
    )
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.metrics["churn"]["method"] == "unavailable"
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    assert rows.count() == 400 and not rows.filter(churn_risk__isnull=False).exists()
    client = client_for(people.alice, people.acme)
    api = client.get(f"/api/v1/analyses/{analysis.pk}/customers/?page_size=5").json()
    assert all(row["churn_risk"] is None for row in api["results"])
    for tab in ("", "profiles/"):
        html = client.get(f"/analyses/{analysis.pk}/{tab}").content.decode()
        html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", html)
        assert not re.search(r"\bNaN\b|\bnan\b|\bNone\b|\b50(\.0)?\s?%", text), re.findall(r".{40}50.{40}", text)
    # no duration: no LTV, and the Visualizations tab says why instead of drawing an empty distribution
    visualizations = client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode()
    assert 'id="figure-ltv-distribution"' not in visualizations
    assert 'data-testid="no-ltv-distribution"' in visualizations
    assert "lifetime value cannot be estimated" in visualizations
    csv = client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv")
    exported = pd.read_csv(io.BytesIO(b"".join(csv.streaming_content)))
    assert len(exported) == 400 and exported["churn_risk"].isna().all()
