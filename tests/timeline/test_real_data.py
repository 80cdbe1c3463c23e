"""On real customers (../shared/realdata/mlc_churn.csv, 5,000 telecom customers): month 1 is customers 1-4,000,
month 2 customers 1,001-5,000 with daytime minutes up 30 %. The re-run's segments are matched by overlap, the
migration counts exactly the 3,000 customers in both months (1,000 new, 1,000 gone), and the version drift finds
the daytime minutes (major) while the account length stays stable."""

import pandas as pd
import pytest
from helpers import real_table

pytestmark = pytest.mark.django_db


def test_versions_continuity_migration_and_drift_on_real_customers(upload_frame, add_version, first_run, rerun):
    from monitoring.services import drift_for_version
    from segments.services.timeline import migration

    table = pd.read_csv(real_table())
    month1 = table.iloc[:4000].copy()
    month2 = table.iloc[1000:].copy()
    month2["total_day_minutes"] = (month2["total_day_minutes"] * 1.3).round(1)
    dataset = upload_frame(month1, name="Telecom customers")
    run1 = first_run(dataset, n_clusters=4)
    version = add_version(dataset, month2)
    run2 = rerun(run1)
    assert run2.summary["continuity"]["method"] == "overlap"
    moves = migration(after=run2, before=run1)
    assert moves.matched_customers == 3000 and moves.new_customers == 1000 and moves.gone_customers == 1000
    assert sum(c["customers"] for c in moves.cells) == 3000
    stayed = sum(c["customers"] for c in moves.cells if c["from_segment"] == c["to_segment"])
    continued = [p["segment"] for p in run2.profiles if p["continuity"] == "continued"]
    print(
        f"\nreal data: {len(continued)} of {len(run2.profiles)} segments continued "
        f"(overlap {run2.summary['continuity']['overlap']}); {stayed} of 3000 customers kept their segment"
    )
    assert len(continued) >= 2
    report = drift_for_version(version)
    psi = {r["column"]: r for r in report.rows}
    print("PSI:", {c: r["psi"] for c, r in psi.items()})
    assert psi["total_day_minutes"]["level"] == "major"
    assert psi["account_length"]["level"] == "stable"
    assert psi["total_night_minutes"]["level"] == "stable"
