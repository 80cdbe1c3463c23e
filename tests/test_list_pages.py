"""The pages that list many rows (datasets, analyses) show one page at a time with the pager saying which rows of how
many, and never decode what a list does not show (each dataset's profile and schema)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def _datasets(org, user, n):
    from datasets.models import Dataset

    return [
        Dataset.objects.for_organization(org).create(
            name=f"Table {i:03d}",
            status="ready",
            storage_key=f"k{i}",
            row_count=10 + i,
            uploaded_by=user,
            profile={"columns": ["x"] * 50},
        )
        for i in range(n)
    ]


def test_the_dataset_list_pages_by_fifty_and_says_how_many(people, client_for):
    _datasets(people.acme, people.alice, 57)
    client = client_for(people.alice, people.acme)
    first = client.get("/datasets/").content.decode()
    assert len(re.findall(r'href="/datasets/\d+/" class="fw-semibold"', first)) == 50
    assert "1–50 of 57 datasets" in first and "page 1 of 2" in first and 'data-testid="pager-next"' in first
    second = client.get("/datasets/?page=2").content.decode()
    assert len(re.findall(r'href="/datasets/\d+/" class="fw-semibold"', second)) == 7
    assert "51–57 of 57 datasets" in second and 'data-testid="pager-next"' not in second
    assert client.get("/datasets/?page=abc").status_code == 200  # not a number: the first page, not an error
    assert "51–57 of 57" in client.get("/datasets/?page=99").content.decode()  # past the end: the last page


def test_the_dataset_list_reads_no_profile_or_schema(people, client_for):
    _datasets(people.acme, people.alice, 3)
    client = client_for(people.alice, people.acme)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/datasets/").status_code == 200
    listing = [q["sql"] for q in queries.captured_queries if 'FROM "datasets_dataset"' in q["sql"]]
    assert listing and all('"datasets_dataset"."profile"' not in sql for sql in listing), listing
    assert all('"datasets_dataset"."schema"' not in sql for sql in listing)


def test_the_analysis_list_pages_and_a_short_list_shows_its_count_without_pages(people, client_for):
    _datasets(people.acme, people.alice, 1)
    client = client_for(people.alice, people.acme)
    page = client.get("/analyses/").content.decode()
    assert 'data-testid="pager"' not in page  # no analyses: the empty state, no pager
