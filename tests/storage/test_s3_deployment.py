"""Settings choose the storage from the environment, and the whole product runs on an S3-compatible store."""

import os
import subprocess
import sys
import uuid

import pytest
from helpers import ROOT, bucket_keys, new_bucket, run_s3_session


def _settings_error(**env) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "segsaas.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, "the settings were accepted"
    return result.stderr.strip().splitlines()[-1]


def test_an_unknown_storage_backend_is_refused_by_name():
    assert _settings_error(STORAGE_BACKEND="gcs") == (
        "django.core.exceptions.ImproperlyConfigured: STORAGE_BACKEND must be 'local' or 's3', not 'gcs'"
    )


def test_s3_without_a_bucket_is_refused_with_the_variable_named():
    assert _settings_error(STORAGE_BACKEND="s3").endswith(
        "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket to use)"
    )


@pytest.mark.worker
def test_the_upload_analysis_export_delete_flow_runs_on_s3_with_nothing_under_media_root(s3_server, tmp_path):
    bucket = new_bucket(s3_server)
    run = f"s3-{uuid.uuid4().hex[:8]}"
    media = tmp_path / "media"
    run_s3_session(
        "s3_session.py",
        s3_server,
        bucket,
        tmp_path,
        run,
        MEDIA_ROOT=str(media),
        STORAGE_SCRATCH_DIR=str(tmp_path / "scratch"),
    )
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert not any((tmp_path / "scratch").rglob("*.*")), "scratch copies were left behind"
    # Acme's last dataset is all that is left; the deleted dataset's and Globex's objects are gone.
    keys = bucket_keys(s3_server, bucket)
    assert len(keys) == 1 and keys[0].endswith("/data.parquet"), keys
