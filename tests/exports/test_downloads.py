"""Downloads through the pages: formats, permissions per role, the tenant fence, the audit log, Reports."""

import io
import json

import openpyxl
import pandas as pd
import pytest
from django.core.files.storage import default_storage

from accounts.models import AuditEvent
from exports.models import Export

pytestmark = pytest.mark.django_db


def _url(analysis, fmt, org=None, segment=None):
    url = f"/reports/analyses/{analysis.pk}/download/?format={fmt}"
    if org is not None:
        url += f"&org={org.pk}"
    if segment is not None:
        url += f"&segment={segment}"
    return url


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_customers_csv_streams_every_customer_of_the_analysis(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    response = client_for(people.bob, people.acme).get(_url(analysis, "csv"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-spring-customers-customers-')
    back = pd.read_csv(io.BytesIO(_body(response)), dtype={"customer_id": str})
    expected = pd.read_parquet(default_storage.path(analysis.customers_file))
    assert len(back) == analysis.customer_count == len(expected)
    assert back["customer_id"].tolist() == expected["customer_id"].astype(str).tolist()
    assert back["segment"].tolist() == expected["segment"].tolist()
    assert (back["predicted_ltv"] - expected["predicted_ltv"]).abs().max() <= 0.005 + 1e-9
    names = {p["segment"]: p["name"] for p in analysis.profiles}
    assert all(names[s] == n for s, n in zip(back["segment"], back["segment_name"], strict=True))


def test_a_segment_filter_gives_only_that_segments_customers(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    profile = max(analysis.profiles, key=lambda p: p["risk_level"] == "high")
    response = client_for(people.bob, people.acme).get(_url(analysis, "csv", segment=profile["segment"]))
    back = pd.read_csv(io.BytesIO(_body(response)))
    assert len(back) == profile["size"] and set(back["segment"]) == {profile["segment"]}
    assert f"segment-{profile['segment']}" in response["Content-Disposition"]
    bad = client_for(people.bob, people.acme).get(_url(analysis, "csv", segment=99))
    assert bad.status_code == 400 and b"no segment 99" in bad.content


def test_the_profiles_tab_list_downloads_as_exactly_the_customers_it_matches(people, client_for, finished_analysis):
    """A win-back list: churn risk at least 50 % and predicted LTV at least 100, found on the Profiles tab."""
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.bob, people.acme)
    page = client.get(f"/analyses/{analysis.pk}/profiles/?churn_risk_min=50&ltv_min=100").content.decode()
    link = page[page.index('data-testid="export-list"') :].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "churn_risk_min=0.5" in link and "ltv_min=100" in link
    response = client.get(link)
    assert response.status_code == 200 and "-filtered.csv" in response["Content-Disposition"]
    back = pd.read_csv(io.BytesIO(_body(response)), dtype={"customer_id": str})
    stored = pd.read_parquet(default_storage.path(analysis.customers_file))
    expected = stored[(stored["churn_risk"] >= 0.5) & (stored["predicted_ltv"] >= 100)]
    assert 0 < len(back) < len(stored)
    assert back["customer_id"].tolist() == expected["customer_id"].astype(str).tolist()
    event = AuditEvent.objects.for_organization(people.acme).filter(action="export.downloaded").latest("created_at")
    assert event.details["churn_risk_min"] == 0.5 and event.details["ltv_min"] == 100


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=csv&churn_risk_min=50", "churn_risk_min: Churn risk is a fraction between 0 and 1"),
        ("format=csv&ltv_min=10&ltv_max=5", "ltv_max: Must be at least ltv_min (10)."),
        ("format=csv&ltv_min=lots", "ltv_min: Enter a number."),
        ("format=pdf&ltv_min=10", "Churn risk, LTV and customer id filters apply to the customers CSV only."),
    ],
)
def test_a_bad_customer_range_is_refused_with_its_name(people, client_for, finished_analysis, query, message):
    analysis = finished_analysis(people.acme, people.alice)
    response = client_for(people.bob, people.acme).get(f"/reports/analyses/{analysis.pk}/download/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_the_workbook_download_matches_the_stored_results_and_is_built_once(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.mia, people.acme)
    response = client.get(_url(analysis, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;") and ".xlsx" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(_body(response)), read_only=True)
    rows = list(book["Customers"].iter_rows(min_row=2, values_only=True))
    expected = pd.read_parquet(default_storage.path(analysis.customers_file))
    assert [r[0] for r in rows] == expected["customer_id"].astype(str).tolist()
    assert [r[1] for r in rows] == expected["segment"].tolist()
    profiles = list(book["Segment profiles"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in profiles] == [
        (p["segment"], p["name"], p["size"]) for p in sorted(analysis.profiles, key=lambda p: p["segment"])
    ]
    again = client.get(_url(analysis, "xlsx"))
    assert again.status_code == 200
    assert Export.objects.for_organization(people.acme).filter(analysis=analysis, format="xlsx").count() == 1


def test_the_json_export_is_the_api_segments_shape(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    response = client_for(people.bob, people.acme).get(_url(analysis, "json"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    doc = json.loads(_body(response))
    assert doc["analysis"] == analysis.pk and doc["count"] == len(analysis.profiles)
    assert doc["results"] == sorted(analysis.profiles, key=lambda p: p["segment"])
    assert doc["organization"] == "Acme" and doc["analysis_name"] == analysis.name


def test_the_pdf_download_is_a_report_for_that_organization(people, client_for, finished_analysis, tmp_path):
    import subprocess

    analysis = finished_analysis(people.acme, people.alice, name="Q2 base")
    response = client_for(people.mia, people.acme).get(_url(analysis, "pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-q2-base-report-')
    path = tmp_path / "r.pdf"
    path.write_bytes(_body(response))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Q2 base" in text and "Acme" in text
    assert all(p["name"] in " ".join(text.split()) for p in analysis.profiles)


@pytest.mark.parametrize(
    "who, allowed", [("alice", True), ("adam", True), ("bob", True), ("mia", True), ("vera", False)]
)
def test_downloads_need_the_export_permission(people, client_for, finished_analysis, make_user, who, allowed):
    from accounts.models import Membership

    people.adam = make_user("adam@example.com")  # an admin of Acme
    Membership.objects.for_organization(people.acme).create(user=people.adam, role="admin")
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(getattr(people, who), people.acme)
    for fmt in ("csv", "json"):
        response = client.get(_url(analysis, fmt))
        assert response.status_code == (200 if allowed else 403), (who, fmt)
    if not allowed:
        assert not AuditEvent.objects.for_organization(people.acme).filter(action="export.downloaded").exists()


def test_another_organizations_analysis_is_a_404_for_every_format(people, client_for, finished_analysis):
    analysis = finished_analysis(people.globex, people.charlie)
    client = client_for(people.alice, people.acme)
    for fmt in ("csv", "xlsx", "json", "pdf"):
        assert client.get(_url(analysis, fmt)).status_code == 404
        # naming Globex explicitly does not help a non-member
        assert client.get(_url(analysis, fmt, org=people.globex)).status_code == 404
    assert not Export.objects.for_organization(people.globex).exists()
    assert not AuditEvent.objects.for_organization(people.globex).filter(action="export.downloaded").exists()


def test_an_account_manager_downloads_from_both_client_organizations_without_switching(
    people, client_for, finished_analysis
):
    acme_analysis = finished_analysis(people.acme, people.alice, name="Acme spring")
    globex_analysis = finished_analysis(people.globex, people.charlie, name="Globex spring")
    client = client_for(people.mia, people.acme)
    # the active organization is Acme: Globex's analysis is only reachable by naming Globex, where mia is a member
    assert client.get(_url(globex_analysis, "csv")).status_code == 404
    response = client.get(_url(globex_analysis, "csv", org=people.globex))
    assert response.status_code == 200 and b"customer_id" in _body(response)
    assert client.session["active_organization_id"] == people.acme.pk
    # an Acme analysis named with the Globex org is still fenced
    assert client.get(_url(acme_analysis, "csv", org=people.globex)).status_code == 404
    event = AuditEvent.objects.for_organization(people.globex).get(action="export.downloaded")
    assert event.actor == people.mia and event.details["format"] == "csv"
    assert not AuditEvent.objects.for_organization(people.acme).filter(action="export.downloaded").exists()


def test_the_role_in_the_named_organization_decides(people, client_for, finished_analysis):
    from accounts.models import Membership

    globex_analysis = finished_analysis(people.globex, people.charlie)
    Membership.objects.for_organization(people.globex).filter(user=people.mia).update(role="viewer")
    client = client_for(people.mia, people.acme)  # an account manager in Acme, only a viewer in Globex
    assert client.get(_url(globex_analysis, "csv", org=people.globex)).status_code == 403


def test_every_download_is_in_the_audit_log_with_who_what_and_format(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.bob, people.acme)
    for fmt in ("csv", "json", "xlsx", "pdf"):
        _body(client.get(_url(analysis, fmt)))
    _body(client.get(_url(analysis, "csv", segment=analysis.profiles[0]["segment"])))
    events = list(AuditEvent.objects.for_organization(people.acme).filter(action="export.downloaded").order_by("pk"))
    assert [e.details["format"] for e in events] == ["csv", "json", "xlsx", "pdf", "csv"]
    assert all(e.actor == people.bob and e.target == analysis.name and e.created_at for e in events)
    assert events[-1].details["segment"] == analysis.profiles[0]["segment"]
    # owners see them on the audit log page
    page = client_for(people.alice, people.acme).get("/audit/")
    assert page.status_code == 200 and page.content.count(b'data-action="export.downloaded"') == 5


def test_an_unfinished_analysis_or_unknown_format_is_refused(people, client_for, finished_analysis):
    from segments.models import Analysis

    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.bob, people.acme)
    assert client.get(_url(analysis, "docx")).status_code == 400
    draft = Analysis.objects.for_organization(people.acme).create(dataset=analysis.dataset, name="Draft", config={})
    response = client.get(_url(draft, "pdf"))
    assert response.status_code == 400 and b"no results yet" in response.content


def test_the_reports_page_lists_every_organization_of_an_account_manager(people, client_for, finished_analysis):
    from segments.models import Analysis

    acme = finished_analysis(people.acme, people.alice, name="Acme spring")
    globex = finished_analysis(people.globex, people.charlie, name="Globex spring")
    Analysis.objects.for_organization(people.acme).create(dataset=acme.dataset, name="Acme draft", config={})
    page = client_for(people.mia, people.acme).get("/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme spring" in html and "Globex spring" in html and "Acme draft" not in html
    for fmt in ("pdf", "xlsx", "csv", "json"):
        assert f"/reports/analyses/{acme.pk}/download/?format={fmt}&amp;org={people.acme.pk}" in html
        assert f"/reports/analyses/{globex.pk}/download/?format={fmt}&amp;org={people.globex.pk}" in html
    # the links work for her, in each organization
    client = client_for(people.mia, people.acme)
    assert client.get(_url(globex, "json", org=people.globex)).status_code == 200
    assert client.get(_url(acme, "json", org=people.acme)).status_code == 200


def test_the_reports_page_shows_only_the_organizations_of_the_person(people, client_for, finished_analysis):
    finished_analysis(people.globex, people.charlie, name="Globex spring")
    html = client_for(people.alice, people.acme).get("/reports/").content.decode()
    assert "Globex" not in html
    viewer = client_for(people.vera, people.acme).get("/reports/").content.decode()
    assert 'data-testid="reports-no-permission"' in viewer and "download/?format=" not in viewer


def test_the_export_buttons_include_renders_for_exporters_only(people, rf, finished_analysis):
    from django.template.loader import render_to_string

    analysis = finished_analysis(people.acme, people.alice)
    html = render_to_string("exports/_export_buttons.html", {"analysis": analysis, "can": {"export": True}})
    assert f"/reports/analyses/{analysis.pk}/download/?format=pdf" in html and "One segment" in html
    assert (
        render_to_string("exports/_export_buttons.html", {"analysis": analysis, "can": {"export": False}}).strip() == ""
    )


def test_the_url_walk_globex_export_is_valid_with_defaults(people):
    from datasets.models import Dataset
    from segments.models import Analysis

    dataset = Dataset.objects.for_organization(people.globex).create(name="d", storage_key="k1", status="ready")
    analysis = Analysis.objects.for_organization(people.globex).create(dataset=dataset, name="a", config={})
    export = Export.objects.for_organization(people.globex).create(analysis=analysis, format="csv")
    assert export.status == "pending" and not export.is_ready and export.file_name.endswith(".csv")


def test_the_service_serves_api_clients_and_records_the_key(people, finished_analysis, settings):
    """`export_request` is the one entry point the API uses: a response now, or an export to poll."""
    from accounts.services import api_key_create
    from exports.services import ExportError, export_request, export_serve

    analysis = finished_analysis(people.acme, people.alice)
    key, _ = api_key_create(organization=people.acme, name="CRM", scopes=["export"], created_by=people.alice)
    outcome = export_request(analysis=analysis, format="json", api_key=key)
    assert outcome.download is not None and outcome.export is None
    event = AuditEvent.objects.for_organization(people.acme).get(action="export.downloaded")
    assert event.api_key == key and event.actor is None and event.details["via"] == "api"

    settings.EXPORT_SYNC_MAX_CUSTOMERS = 10
    queued = export_request(analysis=analysis, format="xlsx", api_key=key)
    assert queued.download is None and queued.export.job.kind == "export.build"
    body = queued.export.as_dict()
    assert body["status"] == "queued" and body["job"]["id"] == queued.export.job.pk and body["file_name"] is None
    # asking again while it is being built returns the same export instead of queuing another
    assert export_request(analysis=analysis, format="xlsx", api_key=key).export.pk == queued.export.pk
    with pytest.raises(ExportError):
        export_serve(export=queued.export, api_key=key)
    with pytest.raises(ExportError, match="segment filter applies to the customer exports"):
        export_request(analysis=analysis, format="pdf", params={"segment": "0"}, api_key=key)
