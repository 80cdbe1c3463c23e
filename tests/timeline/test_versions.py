"""Dataset versions: a new month's file goes through the upload's validation, keeps its own files, profile and row
count, shows its schema changes, carries confirmed roles over, refuses a used column that vanished (naming it),
accepts a mapped rename; analyses read the version they were started on; re-runs read the latest."""

import pytest
from helpers import as_file, stored_files
from timeline_data import csv_bytes, month

pytestmark = pytest.mark.django_db


def test_first_upload_is_version_1_and_a_new_file_becomes_version_2(months, upload_frame, add_version, people):
    first, second, _ = months
    dataset = upload_frame(month(first))
    assert [v.number for v in dataset.versions.all()] == [1]
    v2 = add_version(dataset, month(second, seed=1))
    dataset.refresh_from_db()
    assert v2.number == 2 and v2.row_count == len(second) == 148
    assert dataset.row_count == 148 and dataset.data_file.name == v2.data_file
    v1 = dataset.versions.get(number=1)
    assert v1.row_count == 150 and v1.data_file != v2.data_file
    names = {str(p) for p in stored_files(people.acme)}
    assert v1.data_file in names and v2.data_file in names and v2.original_file in names
    assert v2.schema_changes == {"added": [], "removed": [], "retyped": [], "mapped": {}}


def test_confirmed_roles_carry_over_and_an_added_column_is_shown_with_its_detected_role(
    months, upload_frame, add_version
):
    from datasets.services import dataset_update_roles

    first, second, _ = months
    dataset = upload_frame(month(first))
    dataset_update_roles(dataset=dataset, roles={"visits": "categorical"})
    frame = month(second, seed=1, extra={"region": ["north", "south"] * 74})
    v2 = add_version(dataset, frame)
    dataset.refresh_from_db()
    assert v2.schema_changes["added"] == ["region"]
    assert dataset.roles["visits"] == "categorical"  # the confirmed role, not the detected numeric one
    assert dataset.roles["region"] == "categorical" and dataset.roles_confirmed


def test_a_used_column_missing_from_the_new_file_is_refused_by_name_and_nothing_is_stored(
    months, upload_frame, add_version, people
):
    from datasets.services import DatasetRejected

    first, second, _ = months
    dataset = upload_frame(month(first))
    before = set(stored_files(people.acme))
    with pytest.raises(DatasetRejected) as caught:
        add_version(dataset, month(second).drop(columns=["spend"]))
    assert "'spend'" in caught.value.message and "missing from the new file" in caught.value.message
    assert caught.value.field == "column_map"
    assert set(stored_files(people.acme)) == before
    assert [v.number for v in dataset.versions.all()] == [1]


def test_a_renamed_column_is_accepted_when_mapped_and_keeps_its_old_name(months, upload_frame, add_version):
    first, second, _ = months
    dataset = upload_frame(month(first))
    frame = month(second).rename(columns={"spend": "total_spend"})
    v2 = add_version(dataset, frame, column_map={"spend": "total_spend"})
    assert "spend" in v2.column_names and "total_spend" not in v2.column_names
    assert v2.schema_changes["mapped"] == {"spend": "total_spend"}


def test_a_numeric_column_that_became_text_is_refused_naming_it(months, upload_frame, add_version):
    from datasets.services import DatasetRejected

    first, second, _ = months
    dataset = upload_frame(month(first))
    frame = month(second)
    frame["visits"] = ["many" if i % 2 else "few" for i in range(len(frame))]
    with pytest.raises(DatasetRejected, match=r"Column 'visits' was int and is text"):
        add_version(dataset, frame)


def test_a_bad_file_gets_the_uploads_own_message(months, upload_frame, add_version):
    from datasets.services import DatasetError, dataset_add_version

    dataset = upload_frame(month(months[0]))
    with pytest.raises(DatasetError, match="empty"):
        dataset_add_version(dataset=dataset, file=as_file(b"", "month-2.csv"), filename="month-2.csv")
    assert dataset.versions.count() == 1


def test_analyses_read_their_version_and_rerun_reads_the_latest(months, upload_frame, add_version, first_run, rerun):
    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    assert run1.dataset_version.number == 1 and run1.customer_count == 150
    add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)
    assert run2.dataset_version.number == 2 and run2.customer_count == 148
    assert run2.config == run1.config and run2.rerun_of_id == run1.pk


def _upload(client, url, filename, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(url, {"file": SimpleUploadedFile(filename, content)})


def test_api_adds_a_version_lists_versions_and_reruns(months, upload_frame, partner):
    from segments.services import analysis_create, analysis_default_config

    first, second, _ = months
    dataset = upload_frame(month(first))
    client = partner()
    answer = _upload(client, f"/api/v1/datasets/{dataset.pk}/versions/", "month-2.csv", csv_bytes(month(second)))
    assert answer.status_code == 201, answer.content
    assert answer.json()["number"] == 2 and answer.json()["row_count"] == 148
    listed = client.get(f"/api/v1/datasets/{dataset.pk}/versions/").json()
    assert [v["number"] for v in listed] == [2, 1]
    refused = _upload(
        client, f"/api/v1/datasets/{dataset.pk}/versions/", "m3.csv", csv_bytes(month(second).drop(columns=["visits"]))
    )
    assert refused.status_code == 400 and "'visits'" in refused.json()["error"]["details"]["column_map"][0]
    analysis = analysis_create(
        organization=dataset.organization,
        dataset=dataset,
        config={**analysis_default_config(dataset), "nlp": False},
        version=1,
    )
    assert analysis.dataset_version.number == 1
    again = client.post(f"/api/v1/analyses/{analysis.pk}/rerun/")
    assert again.status_code == 202, again.content
    assert again.json()["dataset_version"] == 2 and again.json()["rerun_of"] == analysis.pk


def test_a_read_only_key_may_not_add_a_version_and_another_org_gets_404(months, upload_frame, partner, people):
    dataset = upload_frame(month(months[0]))
    url = f"/api/v1/datasets/{dataset.pk}/versions/"
    assert _upload(partner(scopes=["read"]), url, "m.csv", b"a\n1\n").status_code == 403
    assert _upload(partner(org=people.globex), url, "m.csv", b"a\n1\n").status_code == 404


def test_page_lists_versions_and_adds_one(months, upload_frame, client_for, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = upload_frame(month(months[0]))
    client = client_for(people.alice, people.acme)
    page = client.post(
        f"/datasets/{dataset.pk}/versions/",
        {"file": SimpleUploadedFile("month-2.csv", csv_bytes(month(months[1]))), "column_map": ""},
    )
    assert page.status_code == 302
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-version="2"' in html and 'data-version="1"' in html
    bad = client.post(
        f"/datasets/{dataset.pk}/versions/",
        {"file": SimpleUploadedFile("m3.csv", csv_bytes(month(months[1]).drop(columns=["spend"])))},
    )
    assert bad.status_code == 400 and "&#x27;spend&#x27;" in bad.content.decode()


def test_command_adds_a_version(months, upload_frame, tmp_path):
    from django.core.management import call_command

    dataset = upload_frame(month(months[0]))
    path = tmp_path / "month-2.csv"
    path.write_bytes(csv_bytes(month(months[1])))
    call_command("import_dataset", str(path), dataset=dataset.pk)
    assert dataset.versions.first().number == 2


def test_the_analysis_form_runs_a_chosen_version(months, upload_frame, add_version, client_for, people):
    from segments.models import Analysis

    first, second, _ = months
    dataset = upload_frame(month(first))
    add_version(dataset, month(second))
    client = client_for(people.bob, people.acme)
    page = client.get(f"/analyses/new/{dataset.pk}/").content.decode()
    assert 'data-testid="version-select"' in page and "Version 2 (latest)" in page
    form = client.get(f"/analyses/new/{dataset.pk}/").context["form"]
    data = {name: field.value() for name, field in ((n, form[n]) for n in form.fields) if field.value() is not None}
    answer = client.post(f"/analyses/new/{dataset.pk}/", {**data, "version": "1", "nlp": ""})
    assert answer.status_code == 302, answer.content.decode()[:500]
    assert Analysis.objects.for_organization(people.acme).get().dataset_version.number == 1
    missing = client.post(f"/analyses/new/{dataset.pk}/", {**data, "version": "7"})
    assert missing.status_code == 200 and "has no version 7" in missing.content.decode()
