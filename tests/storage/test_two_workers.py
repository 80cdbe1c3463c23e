"""Workers on two hosts (different MEDIA_ROOT and scratch directories) over S3: a dataset uploaded through the web
is analysed by whichever worker takes it. Runs `two_workers_session.py` in a pytest session of its own whose
settings come from the environment, as a deployment's would (see test_s3_deployment.py)."""

import uuid

import pytest
from helpers import new_bucket, run_s3_session


@pytest.mark.worker
def test_two_workers_with_their_own_directories_each_analyse_an_upload_from_the_bucket(s3_server, tmp_path):
    bucket = new_bucket(s3_server)
    run = f"two-{uuid.uuid4().hex[:8]}"
    logs = run_s3_session(
        "two_workers_session.py", s3_server, bucket, tmp_path, run, MEDIA_ROOT=str(tmp_path / "web-media")
    )
    assert "host-a" in logs and "host-b" in logs
