"""Synthetic data as a new user meets it: a fresh seed each time (not the demo's), a success message on the new
dataset's page, counts stored and shown as whole numbers; the dataset page in people's words."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _seed(html):
    return int(re.search(r'<input type="number" name="seed" id="id_seed"[^>]*value="(\d+)"', html).group(1))


def test_the_form_offers_a_fresh_seed_each_time_and_keeps_one_that_was_typed(people, client_for):
    client = client_for(people.alice, people.acme)
    seeds = {_seed(client.get("/datasets/synthetic/").content.decode()) for _ in range(4)}
    assert len(seeds) > 1 and 42 not in seeds
    response = client.post("/datasets/synthetic/", {"rows": 50, "seed": 1234, "name": ""})  # too few rows
    assert response.status_code == 400 and _seed(response.content.decode()) == 1234


def test_generating_says_so_on_the_new_dataset_s_page(people, client_for):
    from datasets.models import Dataset

    client = client_for(people.alice, people.acme)
    response = client.post("/datasets/synthetic/", {"rows": 300, "seed": 5, "name": "Trial shop"}, follow=True)
    dataset = Dataset.objects.for_organization(people.acme).get(name="Trial shop")
    assert response.redirect_chain[-1][0] == f"/datasets/{dataset.pk}/"
    html = response.content.decode()
    assert "Generated “Trial shop”. Check the column roles below, then run an analysis." in html


def test_whole_number_columns_are_stored_as_integers_and_previewed_without_decimals(people, client_for):
    from datasets.services import dataset_create_synthetic, dataset_read_dataframe

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=400, seed=3, background=False
    )
    types = {c["name"]: c["type"] for c in dataset.schema}
    assert types["orders"] == "int" and types["tenure_days"] == "int" and types["support_tickets"] == "int"
    assert types["total_spend"] == "float" and types["discount_usage"] == "float"
    frame = dataset_read_dataframe(dataset)
    assert frame["days_since_last_visit"].isna().any()  # missing values survive as nulls in an integer column
    preview = dataset.profile["preview"]
    orders = [row[preview["columns"].index("orders")] for row in preview["rows"]]
    assert all(isinstance(v, int) for v in orders if v is not None)
    html = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    table = re.search(r'data-testid="preview-table">(.*?)</table>', html, re.S).group(1)
    first = re.findall(r"<td>([^<]*)</td>", table.split("</tr>")[1])
    assert first[preview["columns"].index("orders")] == str(orders[0])


def test_a_preview_stored_with_float_counts_still_shows_whole_numbers(people, client_for):
    from datasets.services import dataset_create_synthetic

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=200, seed=4, background=False
    )
    profile = dict(dataset.profile)
    i = profile["preview"]["columns"].index("orders")
    j = profile["preview"]["columns"].index("total_spend")
    profile["preview"] = dict(profile["preview"], rows=[list(r) for r in profile["preview"]["rows"]])
    for row in profile["preview"]["rows"]:
        row[i] = None if row[i] is None else float(row[i])  # as datasets made before the fix were stored
    type(dataset).objects.for_organization(people.acme).filter(pk=dataset.pk).update(profile=profile)
    html = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    table = re.search(r'data-testid="preview-table">(.*?)</table>', html, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", table.split("</tr>")[1])
    assert cells[i] == str(int(profile["preview"]["rows"][0][i]))
    assert cells[j] == str(profile["preview"]["rows"][0][j])  # real decimals untouched


YEARS_CSV = (
    "customer_id,signup_year,spend,region\n"
    + "".join(f"C{i:03d},{2015 + i % 11},{1000 + 37 * i}.25,{'NSEW'[i % 4]}\n" for i in range(80))
).encode()


def test_the_dataset_page_names_roles_and_settings_in_words_and_years_as_years(upload, people, client_for):
    dataset = upload(YEARS_CSV, "years.csv")
    html = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    year_row = re.search(r'<tr data-column="signup_year">(.*?)</tr>', html, re.S).group(1)
    assert "2,0" not in year_row and "min 2015" in year_row and "max 2025" in year_row
    spend_row = re.search(r'<tr data-column="spend">(.*?)</tr>', html, re.S).group(1)
    assert "max 3,923" in spend_row  # other numbers keep their separators
    defaults = re.search(r'data-testid="analysis-defaults">(.*?)</table>', html, re.S).group(1)
    for key in ("categorical_cols", "id_col", "numeric_cols", "churn_label_col", "recency_col"):
        assert key not in defaults, key
    labels = re.findall(r"<th[^>]*>([^<]+)</th>", defaults)
    assert "Categorical columns" in labels and "Customer id" in labels and "Recency" in labels
