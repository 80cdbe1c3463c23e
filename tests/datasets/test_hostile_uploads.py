"""The hostile corpus (tests/datasets/hostile_corpus.py, 50+ generated files) uploaded through the partner API and
the upload page: each gets exactly its expected outcome, never a 5xx. A refused file leaves no dataset row and no
stored file; an accepted one is stored whole (every row, the stated columns and encoding), never a partial table.
Peak parsing memory on the corpus is measured by bench/upload_hostile_memory.py."""

import functools

import pytest
from helpers import as_file, dataset_count, stored_files
from hostile_corpus import UPLOAD_LIMIT, Accepted, corpus

pytestmark = pytest.mark.django_db


@functools.cache
def _corpus():
    return {case.name: case for case in corpus()}


def test_the_corpus_has_at_least_40_files_of_every_kind():
    cases = list(_corpus().values())
    assert len(cases) >= 40
    accepted = [c for c in cases if isinstance(c.expect, Accepted)]
    assert len(accepted) >= 10 and len(cases) - len(accepted) >= 30
    names = set(_corpus())
    for needed in (
        "gzip-bomb",
        "xlsx-zip-bomb",
        "xlsx-xml-bomb",
        "10000-columns",
        "5mb-single-line-one-field",
        "nul-in-head",
        "duplicate-header",
        "formula-and-html-cells",
        "cp1252",
        "mixed-utf8-then-cp1252",
        "path-like-name",
        "over-long-name",
        "random-bytes",
    ):
        assert needed in names


@pytest.fixture
def limited_acme(people):
    people.acme.max_upload_bytes = UPLOAD_LIMIT
    people.acme.save()
    return people.acme


def _error_text(response) -> str:
    body = response.json()["error"]
    parts = [body["message"]]
    for messages in (body.get("details") or {}).values():
        parts.extend(messages if isinstance(messages, list) else [str(messages)])
    return " ".join(parts)


@pytest.mark.parametrize("name", list(_corpus()))
def test_each_hostile_file_gets_exactly_its_outcome_through_the_api(name, people, limited_acme, client):
    from accounts.services import api_key_create
    from datasets.models import Dataset
    from datasets.services import dataset_read_dataframe

    case = _corpus()[name]
    _, key = api_key_create(organization=limited_acme, name="uploader", scopes=["write"], created_by=people.alice)
    before_files = stored_files(limited_acme)
    response = client.post(
        "/api/v1/datasets/",
        {"file": as_file(case.content, case.filename)},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code < 500, response.content[:500]
    if not isinstance(case.expect, Accepted):
        assert response.status_code == 400, (response.status_code, response.content[:500])
        assert response.json()["error"]["code"] == "validation_error"
        text = _error_text(response)
        assert case.expect.message in text, text
        assert dataset_count(limited_acme) == 0
        assert stored_files(limited_acme) == before_files
        return
    assert response.status_code == 201, response.content[:500]
    dataset = Dataset.objects.for_organization(limited_acme).get(pk=response.json()["id"])
    expect = case.expect
    assert dataset.status == "ready", dataset.error if hasattr(dataset, "error") else dataset.status
    assert (dataset.row_count, dataset.column_count) == (expect.rows, expect.columns)
    if expect.encoding:
        assert dataset.encoding == expect.encoding
    assert "/" not in dataset.original_filename and "\\" not in dataset.original_filename
    frame = dataset_read_dataframe(dataset)
    assert frame.shape == (expect.rows, expect.columns), frame.shape  # every row stored, none partial
    if expect.header:
        assert tuple(frame.columns) == expect.header
    for column, value in expect.cells.items():
        assert str(frame[column].iloc[0]) == value, (column, frame[column].iloc[0])


@pytest.mark.parametrize(
    "name",
    [
        "random-bytes",
        "gzip-bomb",
        "xlsx-xml-bomb",
        "10000-columns",
        "duplicate-header",
        "html",
        "formula-and-html-cells",
    ],
)
def test_the_upload_page_answers_each_with_its_outcome(name, people, limited_acme, client_for):
    case = _corpus()[name]
    client = client_for(people.bob, limited_acme)
    response = client.post("/datasets/upload/", {"file": as_file(case.content, case.filename)})
    assert response.status_code < 500
    if isinstance(case.expect, Accepted):
        assert response.status_code == 302 and dataset_count(limited_acme) == 1
        detail = client.get(response["Location"]).content.decode()
        assert "<script>alert(" not in detail and "&lt;script&gt;alert(" in detail
        assert "<img src=x" not in detail
    else:
        assert response.status_code == 400
        html = response.content.decode()
        from django.utils.html import escape

        assert escape(case.expect.message) in html
        assert dataset_count(limited_acme) == 0
