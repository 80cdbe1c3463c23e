"""The import_dataset command, deletion, and the demo dataset."""

from io import StringIO

import pytest
from django.core.management import call_command
from helpers import dataset_count, stored_files

from datasets.models import Dataset


def test_import_dataset_prints_the_new_id(people, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("id;region;spend\n1;Nord;10,5\n2;Süd;20\n".encode("cp1252"))
    out, err = StringIO(), StringIO()
    call_command(
        "import_dataset", str(path), "--organization", people.acme.slug, "--name", "From CRM", stdout=out, stderr=err
    )
    dataset = Dataset.objects.for_organization(people.acme).get()
    assert out.getvalue().strip() == str(dataset.pk)
    assert dataset.name == "From CRM" and dataset.status == "ready" and dataset.encoding == "cp1252"
    assert dataset.original_filename == "customers.csv"


def test_import_dataset_prints_the_rejection_exits_1_and_stores_nothing(people, tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_bytes(b"id,id\n1,2\n")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_dataset", str(path), "--organization", people.acme.slug, stdout=out, stderr=err)
    assert exc.value.code == 1
    assert err.getvalue().strip() == (
        "dupes.csv: column name 'id' appears twice in the header row (columns 1 and 2); column names must be unique."
    )
    assert out.getvalue() == ""
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_import_dataset_runs_as_a_real_process(people, tmp_path, transactional_db):
    """Exit status and standard error as an operator sees them."""
    import subprocess
    import sys

    from django.conf import settings
    from helpers import subprocess_env

    path = tmp_path / "header.csv"
    path.write_bytes(b"a,b,c\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "import_dataset", "--organization", people.acme.slug, str(path)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "header.csv: the file has a header row but no data rows."
    assert done.stdout == ""
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_alice_deletes_a_dataset_after_confirming_and_its_files_go(upload, people, client_for):
    from datasets import storage

    dataset = upload(b"id,region\n1,North\n2,South\n", "small.csv")
    # A file an analysis of this dataset wrote, following the storage convention.
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(f"{storage.analysis_dir(dataset, 7)}/model.joblib", ContentFile(b"model"))
    assert len(stored_files(people.acme)) == 3
    client = client_for(people.alice, people.acme)
    page = client.get(f"/datasets/{dataset.pk}/delete/")
    assert page.status_code == 200 and b"Delete permanently" in page.content
    assert dataset_count(people.acme) == 1  # GET only asks
    response = client.post(f"/datasets/{dataset.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/datasets/"
    assert dataset_count(people.acme) == 0
    assert stored_files(people.acme) == []
    from accounts.models import AuditEvent

    event = AuditEvent.objects.for_organization(people.acme).get(action="dataset.deleted")
    assert event.target == "small" and event.actor == people.alice


def test_demo_dataset_ensure_makes_one_dataset_once(people):
    from datasets.services import DEMO_DATASET_NAME, demo_dataset_ensure

    first, created = demo_dataset_ensure(organization=people.acme, uploaded_by=people.alice, rows=2_000)
    again, created_again = demo_dataset_ensure(organization=people.acme, uploaded_by=people.alice, rows=2_000)
    assert created and not created_again and first.pk == again.pk
    assert first.name == DEMO_DATASET_NAME and first.status == "ready" and first.row_count == 2_000
    assert first.roles["customer_id"] == "identifier"
