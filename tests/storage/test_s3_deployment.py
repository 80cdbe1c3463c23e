"""Settings choose the storage from the environment, and the whole product runs on an S3-compatible store."""

import os
import re
import subprocess
import sys
import uuid

import pytest
from helpers import ROOT, S3_KEYS, S3_REGION, TMP, bucket_keys, new_bucket

# What a test session of this suite sets for itself (test_settings.py); a nested session must choose its own.
SESSION_VARIABLES = (
    "SEGSAAS_TEST_TMP",
    "SEGSAAS_TEST_RUN",
    "MEDIA_ROOT",
    "CELERY_BROKER_DIR",
    "CELERY_TASK_DEFAULT_QUEUE",
)


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
    env = {k: v for k, v in os.environ.items() if k not in SESSION_VARIABLES and not k.startswith("PYTEST_")}
    env.update(
        {
            **S3_KEYS,
            "STORAGE_BACKEND": "s3",
            "AWS_S3_ENDPOINT_URL": s3_server,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_REGION_NAME": S3_REGION,
            "SEGSAAS_TEST_TMP": str(tmp_path / "session"),
            "SEGSAAS_TEST_RUN": run,
            "MEDIA_ROOT": str(media),
            "STORAGE_SCRATCH_DIR": str(tmp_path / "scratch"),
        }
    )
    (tmp_path / "session").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/storage/s3_session.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = tmp_path / "session" / "worker.log"
    (TMP / f"{run}.log").write_text(result.stdout + result.stderr + (log.read_text() if log.exists() else ""))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"^1 passed", result.stdout, re.MULTILINE), result.stdout[-3000:]
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert not any((tmp_path / "scratch").rglob("*.*")), "scratch copies were left behind"
    # Acme's last dataset is all that is left; the deleted dataset's and Globex's objects are gone.
    keys = bucket_keys(s3_server, bucket)
    assert len(keys) == 1 and keys[0].endswith("/data.parquet"), keys
