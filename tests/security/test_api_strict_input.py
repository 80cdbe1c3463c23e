"""The API refuses what its schema does not allow, in the one error format: a path no route matches is a JSON 404
(not the HTML page, with DEBUG off or on), a JSON value of the wrong type is a 400 naming the field (a number where a string is due, 0
for false), an out-of-range or repeated query parameter is a 400 (not a 500 from the database), a request Django
refuses before any view (too many fields) is a JSON 400 (DEBUG off or on)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(people, client):
    from accounts.services import api_key_create

    _, key = api_key_create(
        organization=people.acme, name="strict", scopes=["read", "write", "predict", "export"], created_by=people.alice
    )

    def do(method, url, body=None, **extra):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = getattr(client, method)(url, body, HTTP_AUTHORIZATION=f"Bearer {key}", **kwargs, **extra)
        assert response["Content-Type"].startswith("application/json"), (url, response.content[:200])
        return response.status_code, response.json()["error"] if response.status_code >= 400 else response.json()

    return do


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(
    "url",
    ["/api/v1/analyses/1.5/", "/api/v1/analyses/1/nothing/", "/api/v1/nowhere/", "/api/v2/",
     "/api/", "/api/v1/datasets/1/" + "x" * 4000 + "/"],
)  # fmt: skip
def test_a_path_no_route_matches_answers_in_the_json_error_shape(call, url, settings, debug):
    settings.DEBUG = debug
    for method in ("get", "post", "delete"):
        status, error = call(method, url)
        assert status == 404 and error == {
            "code": "not_found",
            "message": f"No API endpoint matches {url!r}: see /api/schema/ for the paths.",
            "details": {},
        }


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/datasets/?customer_id=" + "x" * 5000,
        "/api/v1/analyses/1/" + "y" * 4100 + "/",
        "/api/nowhere/" + "z" * 9000,
    ],
)
def test_an_over_long_url_is_a_json_414(call, url, settings, debug):
    settings.DEBUG = debug
    status, error = call("get", url)
    assert status == 414 and error["code"] == "uri_too_long", error
    assert error["message"] == f"The URL is {len(url):,} characters; the API reads at most 4,096."


def test_gunicorn_lets_request_lines_well_over_the_apis_limit_through():
    """The API answers an over-long URL itself only if the server lets it through: gunicorn.conf.py sets gunicorn's
    largest request line (8,190 bytes), about twice the API's limit."""
    import runpy

    from django.conf import settings

    config = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert config["limit_request_line"] == 8190 and 8190 - settings.API_MAX_URL_LENGTH >= 4000


def test_the_schema_documents_both_414s_the_api_s_json_and_the_http_server_s_html():
    """Past gunicorn's request line (8,190 bytes) the server answers 414 with its own HTML page before the API sees
    the request (schemathesis found it: a customers query with a parameter repeated 60 times): every operation that
    documents the API's JSON 414 documents that one too, so a partner's client knows both."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [op for path in schema["paths"].values() for op in path.values() if "414" in op.get("responses", {})]
    assert len(operations) > 20
    for op in operations:
        assert set(op["responses"]["414"]["content"]) == {"application/json", "text/html"}, op["operationId"]
        assert "8,190 bytes" in op["responses"]["414"]["description"]


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_api_views_own_404_keeps_its_message(call, settings, debug):
    settings.DEBUG = debug
    status, error = call("get", "/api/v1/analyses/999999/")
    assert status == 404 and error == {
        "code": "not_found",
        "message": "No Analysis matches the given query.",
        "details": {},
    }


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_path_missing_its_slash_is_still_redirected(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/datasets")
    assert response.status_code == 301 and response["Location"] == "/api/v1/datasets/"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_pages_keep_their_html_404(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/datasets/synthetic/", {"rows": 100, "name": 5}, "name"),
        ("/api/v1/datasets/synthetic/", {"rows": "100"}, "rows"),
        ("/api/v1/datasets/synthetic/", {"rows": True}, "rows"),
        ("/api/v1/analyses/", {"dataset": "1"}, "dataset"),
        ("/api/v1/analyses/", {"dataset": 1, "nlp": 0}, "nlp"),
        ("/api/v1/analyses/", {"dataset": 1, "name": 12.5}, "name"),
        ("/api/v1/analyses/", {"dataset": 1, "algorithm": 1}, "algorithm"),
        ("/api/v1/analyses/", {"dataset": 1, "roles": ["a"]}, "roles"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_refused_naming_the_field(call, url, body, field):
    from datasets.models import Dataset

    status, error = call("post", url, body)
    assert status == 400 and error["code"] == "validation_error", error
    assert field in error["details"], error
    assert Dataset.objects.unscoped().count() == 0


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/analyses/?dataset=-121155354265502859264", "dataset"),
        ("/api/v1/analyses/?dataset=99999999999999999999", "dataset"),
        ("/api/v1/analyses/?dataset=1&dataset=2", "dataset"),
        ("/api/v1/analyses/?dataset=abc", "dataset"),
    ],
)
def test_a_bad_query_parameter_is_a_400_not_a_500(call, url, param):
    status, error = call("get", url)
    assert status == 400 and param in error["details"], error


def test_a_bad_page_size_is_refused(call, people):
    from datasets.services import dataset_create_synthetic
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=200, seed=2, name="small", background=False
    )
    config = {**analysis_default_config(dataset), "n_clusters": 2, "nlp": False}
    analysis = analysis_create(organization=people.acme, dataset=dataset, config=config, name="small", created_by=None)
    assert job_execute(analysis.job_id) == "succeeded"
    for size in ("null", "0", "1001", "1&page_size=2"):
        status, error = call("get", f"/api/v1/analyses/{analysis.pk}/customers/?page_size={size}")
        assert status == 400 and "page_size" in error["details"], (size, status, error)
    status, page = call("get", f"/api/v1/analyses/{analysis.pk}/customers/?page_size=7")
    assert status == 200 and len(page["results"]) == 7


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_too_many_fields_is_a_json_400(call, settings, debug):
    settings.DEBUG = debug
    query = "&".join("f=1" for _ in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 5))  # under the URL limit
    status, error = call("get", f"/api/v1/datasets/?{query}")
    assert status == 400 and error["code"] == "bad_request"


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1&page=2", "1.5", ""])
def test_a_bad_page_number_is_refused(call, page):
    status, error = call("get", f"/api/v1/datasets/?page={page}")
    assert status == 400 and "page" in error["details"], (page, status, error)


def test_pages_of_a_list_still_work(call):
    status, body = call("get", "/api/v1/datasets/?page=1")
    assert status == 200 and body["count"] == 0
    status, error = call("get", "/api/v1/datasets/?page=2")
    assert status == 404 and error["code"] == "not_found"  # past the last page
