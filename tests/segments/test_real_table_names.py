"""The real telecom table (../shared/realdata/mlc_churn.csv) through the product: uploaded, analysed with the roles
the dataset page detected, and read on the Profiles tab, in the API and the CSV. No engagement is invented, plans
read as shares, names differ, and a high-risk customer of a low-risk segment is advised as themself."""

import html as html_lib
import io

import pandas as pd
import pytest
from helpers import as_file, real_table

pytestmark = pytest.mark.django_db

# ../shared beside the checkout (/work/main) or beside the worktrees' folder (/work/wt/<name>)


@pytest.fixture
def mlc_analysis(people):
    from datasets.services import dataset_create_from_upload
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_from_upload(
        organization=people.acme,
        uploaded_by=people.alice,
        file=as_file(real_table().read_bytes(), "mlc.csv"),
        filename="mlc.csv",
    )
    assert dataset.behaviour_roles["engagement_cols"] == {}  # usage minutes and calls are no engagement role
    config = analysis_default_config(dataset) | {"nlp": False}
    analysis = analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    return analysis


def test_the_real_telecom_table_reads_plainly_on_the_pages_and_in_the_csv(people, client_for, mlc_analysis):
    analysis = mlc_analysis
    client = client_for(people.alice, people.acme)
    page = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/profiles/").content.decode())
    names = [p["name"] for p in analysis.profiles]
    assert len({n.split(" (")[0] for n in names}) > 1, names  # not six "Steady Mid-Value (…)"
    assert page.count("Engagement unknown") == len(analysis.profiles)
    assert "medium engagement" not in page.lower() and "<th>Engagement</th>" not in page
    assert "high voice mail plan" not in page and "high international plan" not in page
    assert "% have a voice mail plan (vs " in page or "% have a international plan (vs " in page
    back = pd.read_csv(
        io.BytesIO(b"".join(client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv").streaming_content))
    )
    assert set(back["engagement_level"]) == {"unknown"}
    low = {p["segment"] for p in analysis.profiles if p["risk_level"] == "low"}
    odd = back[back["segment"].isin(low) & (back["risk_level"] == "high")]
    assert len(odd) and odd["recommendation"].str.contains("retention").all()
    assert odd["recommendation_reason"].str.startswith("own churn risk").all()
