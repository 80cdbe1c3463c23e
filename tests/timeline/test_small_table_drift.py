"""A new version of a small table: PSI is computed but not alerted below the engine's minimum row count
(segments/engine/drift.py), and the Monitoring page says so for the feature and states the rule."""

import pytest
from timeline_data import month

pytestmark = pytest.mark.django_db


def test_a_shift_in_an_80_row_table_is_shown_as_too_few_rows_not_alerted(
    months, upload_frame, add_version, people, client_for, mailoutbox
):
    from monitoring.models import WebhookDelivery
    from monitoring.services import drift_for_version, endpoint_create, subscription_set
    from segments.engine.drift import MIN_ROWS

    first, _, _ = months
    small = dict(list(first.items())[:80])
    dataset = upload_frame(month(small))
    subscription_set(organization=people.acme, user=people.bob, subscribed=True)
    endpoint_create(organization=people.acme, url="http://127.0.0.1:9/hook", events=["segments.drift_alert"])
    shifted = month(small, seed=2)
    shifted["spend"] = shifted["spend"] * 3
    report = drift_for_version(add_version(dataset, shifted))

    spend = {r["column"]: r for r in report.rows}["spend"]
    assert spend["psi"] >= 0.25 and spend["level"] == "stable" and MIN_ROWS > 80
    assert spend["note"].startswith("too few rows to judge (80 and 80)")
    assert report.level == "stable" and not report.alert
    assert mailoutbox == [] and not WebhookDelivery.objects.for_organization(people.acme).exists()

    page = client_for(people.vera, people.acme).get("/monitoring/").content.decode()
    assert 'data-testid="drift-held"' in page
    assert "not alerted: too few rows to judge (80 and 80): drift is alerted from 100 rows in each version" in page
    assert 'data-testid="small-table-rule"' in page and "fewer than 100 rows" in page
