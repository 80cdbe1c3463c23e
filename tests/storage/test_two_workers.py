"""Workers on two hosts (different MEDIA_ROOT and scratch directories) over S3: a dataset uploaded through the web
is analysed by whichever worker takes it. Runs `two_workers_session.py` in a pytest session of its own whose
settings come from the environment, as a deployment's would (see test_s3_deployment.py)."""

import os
import re
import subprocess
import sys
import uuid

import pytest
from helpers import ROOT, S3_KEYS, S3_REGION, TMP, new_bucket
from test_s3_deployment import SESSION_VARIABLES


@pytest.mark.worker
def test_two_workers_with_their_own_directories_each_analyse_an_upload_from_the_bucket(s3_server, tmp_path):
    bucket = new_bucket(s3_server)
    run = f"two-{uuid.uuid4().hex[:8]}"
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
            "MEDIA_ROOT": str(tmp_path / "web-media"),
        }
    )
    (tmp_path / "session").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/storage/two_workers_session.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    logs = "".join(p.read_text() for p in sorted((tmp_path / "session").glob("host-*.log")))
    (TMP / f"{run}.log").write_text(result.stdout + result.stderr + logs)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"^1 passed", result.stdout, re.MULTILINE), result.stdout[-3000:]
    assert "host-a" in logs and "host-b" in logs
