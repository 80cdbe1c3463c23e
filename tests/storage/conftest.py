"""A local S3-compatible server (moto's standalone server, started here on a free loopback port and stopped at
the end of the session), and settings that point the storage module at a fresh bucket on it."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers import S3_KEYS, S3_REGION, TMP, new_bucket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of a moto S3 server of this test session."""
    port = _free_port()
    log = open(TMP / "moto.log", "w")  # noqa: SIM115 - kept open while the server runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()  # noqa: S310 - our loopback server
            break
        except OSError as exc:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                log_text = (TMP / "moto.log").read_text()[-3000:]
                raise RuntimeError(f"moto's S3 server did not start:\n{log_text}") from exc
            time.sleep(0.2)
    yield endpoint
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    log.close()


@pytest.fixture
def on_s3(s3_server, settings, tmp_path):
    """This test's files go to a fresh bucket (STORAGES as `STORAGE_BACKEND=s3` makes them); MEDIA_ROOT is an
    empty directory that must stay empty. Yields (endpoint, bucket)."""
    from boto3.s3.transfer import TransferConfig

    bucket = new_bucket(s3_server)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_server,
                "access_key": S3_KEYS["AWS_ACCESS_KEY_ID"],
                "secret_key": S3_KEYS["AWS_SECRET_ACCESS_KEY"],
                "region_name": S3_REGION,
                "signature_version": "s3v4",
                "file_overwrite": True,
                "default_acl": None,
                "max_memory_size": 8 * 1024 * 1024,
                # Small parts, so that a few-MB test file is a real multipart upload.
                "transfer_config": TransferConfig(
                    multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2
                ),
            },
        },
    }
    yield s3_server, bucket
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*")), "files under MEDIA_ROOT"


@pytest.fixture
def on_disk(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path / "media"


@pytest.fixture(params=["disk", "s3"])
def backend(request):
    """Run the test on the local disk and on S3."""
    return request.getfixturevalue("on_disk" if request.param == "disk" else "on_s3")
