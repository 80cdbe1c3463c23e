"""What a new user reads on the analysis pages: comparable compare charts, names that describe the run,
labels instead of engine keys, numbers formatted for what they are, a form that says where its roles come from,
chart labels that fit, one cancel button."""

import html as html_lib
import json
import re

import pytest

from segments.engine.vocabulary import METHOD_LABELS

pytestmark = pytest.mark.django_db


def _figures(html):
    return {
        name: json.loads(body)
        for name, body in re.findall(r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', html, re.S)
    }


def _second_run(first, user, **config):
    """Another finished run on the same dataset (run in this process through the job's own entry point)."""
    from jobs.services import job_execute
    from segments.services import analysis_create

    analysis = analysis_create(
        organization=first.organization,
        dataset=first.dataset,
        config=dict(first.config, **config),
        name="",
        created_by=user,
        rerun_of=first,
    )
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    return analysis


def _select_options(html, name):
    body = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(v, html_lib.unescape(label)) for v, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', body)]


# --- 1. compare ------------------------------------------------------------------------------------------------


def test_compare_charts_put_both_runs_on_one_scale_with_one_colour_per_run_and_names_on_the_axis(
    people, client_for, finished_analysis
):
    a = finished_analysis(people.acme, people.alice, n_clusters=3)
    b = _second_run(a, people.alice, n_clusters=5, algorithm="gmm")
    html = client_for(people.vera, people.acme).get(f"/analyses/{a.pk}/compare/?other={b.pk}").content.decode()
    figures = _figures(html)
    values = {
        "compare-sizes": lambda p: p["size"],
        "compare-ltv": lambda p: p["avg_ltv"],
        "compare-churn": lambda p: p["avg_churn_risk"] * 100,
    }
    colours = set()
    for key, value in values.items():
        fig = figures[key]
        layout = fig["layout"]
        assert layout["xaxis"]["range"] == layout["xaxis2"]["range"], key  # one value scale for A and B
        assert layout["xaxis2"].get("matches") == "x", key
        top = max(value(p) for run in (a, b) for p in run.profiles)
        assert layout["xaxis"]["range"][0] == 0 and layout["xaxis"]["range"][1] >= top, key
        run_a, run_b = fig["data"]
        for trace, run in ((run_a, a), (run_b, b)):
            assert trace["orientation"] == "h", key
            assert isinstance(trace["marker"]["color"], str), key  # one colour for the whole run
            names = [p["name"] for p in sorted(run.profiles, key=lambda p: p["segment"])]
            assert [y.replace("<br>", " ") for y in trace["y"]] == names, key  # full names on the axis
            assert trace["x"] == pytest.approx([value(p) for p in sorted(run.profiles, key=lambda p: p["segment"])])
        assert run_a["marker"]["color"] != run_b["marker"]["color"], key
        colours.add((run_a["marker"]["color"], run_b["marker"]["color"]))
        for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
            assert not layout[axis].get("tickangle"), (key, axis)  # no slanted labels to collide
        titles = [ann["text"] for ann in layout["annotations"]]
        assert titles == [f"Run A · {len(a.profiles)} segments", f"Run B · {len(b.profiles)} segments"], key
    assert len(colours) == 1  # the same run colours in every chart
    a_colour, b_colour = colours.pop()
    assert f"background: {a_colour}" in html and f"background: {b_colour}" in html  # the table's keys
    overlap = figures["compare-overlap"]["layout"]
    assert not overlap["xaxis"].get("tickangle")


# --- 2. names --------------------------------------------------------------------------------------------------


def test_a_rerun_with_changed_settings_is_named_from_its_own_settings_and_a_typed_name_is_kept(
    people, client_for, finished_analysis
):
    from segments.models import Analysis
    from segments.services import is_default_name

    first = finished_analysis(people.acme, people.alice)  # automatic name
    assert first.name == f"{first.dataset.name} · K-means · k=4"
    client = client_for(people.bob, people.acme)
    form = client.get(f"/analyses/{first.pk}/rerun/").content.decode()
    assert re.search(r'<input type="text" name="name"[^>]*value=""', form)  # the old automatic name is not carried
    data = {
        "name": "",
        "algorithm": "gmm",
        "k_mode": "fixed",
        "n_clusters": 3,
        "k_min": 2,
        "k_max": 10,
        "color_scheme": "Plotly",
        "nlp": "on",
        **{name: value for name, value in _posted_selects(form)},
    }
    assert client.post(f"/analyses/{first.pk}/rerun/", data).status_code == 302
    second = Analysis.objects.for_organization(people.acme).exclude(pk=first.pk).get()
    assert second.name == f"{first.dataset.name} · Gaussian mixture · k=3"
    # An automatic name sent back unchanged (an old form, the API) is replaced too; a typed one is kept.
    data["name"] = f"{first.name} (re-run)"
    client.post(f"/analyses/{first.pk}/rerun/", data)
    assert Analysis.objects.for_organization(people.acme).filter(name=second.name).count() == 2
    data["name"] = "Spring campaign"
    client.post(f"/analyses/{first.pk}/rerun/", data)
    typed = Analysis.objects.for_organization(people.acme).get(name="Spring campaign")
    assert not is_default_name(typed.name, typed.dataset)
    form = client.get(f"/analyses/{typed.pk}/rerun/").content.decode()
    assert 'value="Spring campaign (re-run)"' in form
    auto_k = _second_run(first, people.alice, n_clusters=None, k_min=3, k_max=6)
    assert auto_k.name == f"{first.dataset.name} · K-means · auto k (3–6)"


def _posted_selects(html):
    """The form's selects as a browser posts them (each one's selected option)."""
    for name, body in re.findall(r'<select name="([\w]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        if name not in ("algorithm", "color_scheme"):
            yield name, selected.group(1) if selected else ""


# --- 3. labels and numbers -------------------------------------------------------------------------------------


def test_the_data_tab_shows_labels_not_engine_keys(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    html = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    for key in ("store_customers_seconds", "categorical_cols", "id_col", "inferred"):
        assert key not in html, key
    assert "Storing customer results" in html
    config = re.search(r'data-testid="config-used">(.*?)</table>', html, re.S).group(1)
    rows = dict(re.findall(r'<th class="fw-normal">([^<]+)</th><td class="text-end">([^<]*)</td>', config))
    assert rows["Algorithm"] == "K-means"
    assert rows["Ignored columns"] == "none"
    assert rows["Categorical columns"] == "region, device, channel, city"
    assert rows["Customer id"] == "customer_id"
    churn = re.search(r'data-testid="churn-method">([^<]+)<', html).group(1)
    kept = analysis.metrics["churn"]["model"]  # the family cross-validation kept, as a label
    assert churn == f"{METHOD_LABELS['churn_model'][kept]} trained on the churn label"


def test_a_year_feature_reads_as_a_year_and_spend_as_money_on_the_profiles_tab(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    profiles = [dict(p) for p in analysis.profiles]
    profiles[0]["distinguishing_features"] = [
        {"feature": "signup_date (year)", "z": 0.9, "segment_mean": 2025.96, "population_mean": 2024.41},
        {"feature": "total_spend", "z": 1.2, "segment_mean": 2260.742, "population_mean": 85.25},
        {"feature": "orders", "z": 0.8, "segment_mean": 18.341, "population_mean": 8.0},
    ]
    type(analysis).objects.for_organization(people.acme).filter(pk=analysis.pk).update(profiles=profiles)
    html = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    assert "2026.0 vs 2024.4" in html and "2,025" not in html
    assert "$2,261 vs $85.25" in html
    assert "18.34 vs 8)" in html


def test_numbers_are_formatted_for_what_they_are():
    from segments.engine.formatting import feature_kind
    from segments.engine.formatting import format_value as format_number
    from segments.templatetags.segments_extras import column_number

    assert format_number(2025.96, "year") == "2026.0" and format_number(2018.0, "year") == "2018"
    assert format_number(1980, "number") == "1,980" and format_number(2260.74, "money") == "$2,261"
    assert format_number(0.3266, "number") == "0.33" and format_number(None) == "—"
    assert feature_kind("signup_year") == "year" and feature_kind("total_spend", {"total_spend"}) == "money"
    assert feature_kind("yearly_spend") == "number"
    # a one-hot level or a missing-value flag: its mean is the share of customers with it
    assert feature_kind("device=mobile") == feature_kind("total_spend (missing)") == "share"
    assert format_number(0.2712, "share") == "27%"
    year_column = {"name": "joined", "stored_type": "int", "numeric": {"min": 2015, "max": 2026}}
    assert column_number(2020.51, year_column) == "2020.5"
    amount = {"name": "amount", "stored_type": "int", "numeric": {"min": 5, "max": 25000}}
    assert column_number(12500, amount) == "12,500"


# --- 4. the new-analysis form ----------------------------------------------------------------------------------


def test_the_form_says_whether_its_roles_were_confirmed_and_uses_the_dataset_page_s_role_names(
    people, client_for, make_dataset
):
    from datasets.models import ColumnRole
    from datasets.services import dataset_update_roles

    dataset = make_dataset(people.acme, people.alice, rows=500)
    client = client_for(people.bob, people.acme)
    html = client.get(f"/analyses/new/{dataset.pk}/").content.decode()
    source = re.search(r'data-testid="roles-source">(.*?)</p>', html, re.S).group(1)
    assert "confirmed roles" not in source and "detected automatically" in source
    assert f'href="/datasets/{dataset.pk}/#roles"' in source
    labels = [label for _, label in _select_options(html, "role_0")]
    assert labels == ["Infer automatically", *ColumnRole.labels]  # the dataset page's vocabulary
    dataset_page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert [label for _, label in _select_options(dataset_page, "role_0")] == ColumnRole.labels
    dataset_update_roles(dataset=dataset, roles={}, actor=people.alice)
    html = client.get(f"/analyses/new/{dataset.pk}/").content.decode()
    source = re.search(r'data-testid="roles-source">(.*?)</p>', html, re.S).group(1)
    assert "Prefilled from the dataset's confirmed roles." in source


def test_behaviour_dropdowns_offer_only_numeric_or_date_columns(people, client_for, make_dataset):
    dataset = make_dataset(people.acme, people.alice, rows=500)
    client = client_for(people.bob, people.acme)
    html = client.get(f"/analyses/new/{dataset.pk}/").content.decode()
    numeric_or_date = {c for c, r in dataset.roles.items() if r in ("numeric", "monetary", "date")}
    for key in ("recency_col", "frequency_col", "tenure_col"):
        offered = {v for v, _ in _select_options(html, key)} - {""}
        assert offered == numeric_or_date, key
        assert not offered & {"customer_id", "region", "review", "churned"}
    # A column turned into text in the same form cannot stay the recency column.
    data = dict(_posted_selects(html))
    columns = [c["name"] for c in dataset.schema]
    data.update(
        {
            "algorithm": "kmeans",
            "k_mode": "fixed",
            "n_clusters": 3,
            "k_min": 2,
            "k_max": 10,
            "color_scheme": "Plotly",
            "recency_col": "orders",
            f"role_{columns.index('orders')}": "text",
        }
    )
    response = client.post(f"/analyses/new/{dataset.pk}/", data)
    assert response.status_code == 200
    assert "Recency must be a numeric or date column; 'orders' is text." in html_lib.unescape(response.content.decode())


# --- 5. chart labels and the progress box ----------------------------------------------------------------------


def test_chart_labels_are_whole_and_short_enough_to_fit(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.vera, people.acme)
    viz = _figures(client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode())
    insights = _figures(client.get(f"/analyses/{analysis.pk}/insights/").content.decode())
    names = {p["name"] for p in analysis.profiles}
    for fig in (viz["ltv-churn"], insights["risk-value"]):
        # beside its bubble (the trace's text) or, where bubbles crowd, a callout (an annotation with a line)
        texts = [t["text"][0] for t in fig["data"] if t.get("text")]
        texts += [a["text"] for a in fig["layout"].get("annotations", []) if a.get("showarrow")]
        assert len(texts) == len(fig["data"])
        assert {t.replace("<br>", " ") for t in texts} == names  # never cut ("Dormant Budget (high…")
        assert all(len(line) <= 20 for t in texts for line in t.split("<br>"))
        assert min(fig["layout"]["yaxis"]["tickvals"]) == 0  # no "$−1,000" under the bubbles
    radars = {k: v for k, v in viz.items() if k.startswith("radar-")}
    assert len(radars) == len(analysis.profiles)
    for fig in radars.values():
        theta = fig["data"][1]["theta"]
        assert all(len(line) <= 14 and label.count("<br>") <= 2 for label in theta for line in label.split("<br>"))
        assert all("_" not in label and "…" not in label for label in theta)  # whole names in words
        assert "…" not in fig["layout"]["title"]["text"]
        assert fig["layout"]["title"]["text"].replace("<br>", " ") in names
    assert len({fig["layout"]["margin"]["t"] for fig in radars.values()}) == 1  # circles line up in the grid


def test_a_running_analysis_offers_one_cancel_button(people, client_for, make_dataset):
    from segments.services import analysis_create, analysis_default_config

    dataset = make_dataset(people.acme, people.alice, rows=500)
    analysis = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config=analysis_default_config(dataset),
        name="",
        created_by=people.alice,
    )
    html = client_for(people.bob, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    assert 'data-testid="job-progress"' in html
    assert len(re.findall(r"<button[^>]*>\s*Cancel( run)?\s*</button>", html)) == 1


def test_no_page_shows_an_engine_key_nan_or_none(people, client_for, finished_analysis):
    """What a person reads is labels and numbers: never `gmm`, `at_risk`, `numeric_cols`, NaN or None."""
    analysis = finished_analysis(people.acme, people.alice, algorithm="gmm", n_clusters=3)
    client = client_for(people.vera, people.acme)
    pages = ["/", "/analyses/", *(f"/analyses/{analysis.pk}/{tab}" for tab in ("", "profiles/", "insights/"))]
    for page in pages:
        html = client.get(page).content.decode()
        visible = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
        found = re.findall(r"\b(?:gmm|kmeans|dbscan|at_risk|[a-z]+_cols|NaN|nan|None)\b", visible)
        assert not found, (page, found)
    assert "Gaussian mixture" in client.get("/analyses/").content.decode()
