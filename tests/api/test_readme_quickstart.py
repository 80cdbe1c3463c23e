"""The README's API quick start, run as written: the shell block is taken from README.md and executed with bash,
curl and jq against a live server and the real Celery worker (only the server address is this test's)."""

import json
import re
import subprocess

import pytest
from helpers import ROOT, subprocess_env

pytestmark = [pytest.mark.worker]


def _quick_start_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## API quick start") :]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_readme_api_quick_start_runs_as_written(worker, live_server, tmp_path):
    from accounts.models import Organization

    Organization.objects.create(name="Acme Retail", slug="acme-retail")  # what seed_demo makes
    script = _quick_start_block()
    assert "http://127.0.0.1:8000/api/v1" in script
    script = script.replace("http://127.0.0.1:8000/api/v1", f"{live_server.url}/api/v1")
    for name in (".venv", "manage.py"):  # the block runs from the project root; its files land in tmp_path
        (tmp_path / name).symlink_to(ROOT / name)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert '"status": "succeeded"' in out
    assert '"segment_name"' in out and '"churn_risk"' in out  # the scored new customer
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "customers-scored.csv").read_text().count("\n") == 5001  # header + every customer
    profiles = json.loads((tmp_path / "segments.json").read_text())
    assert profiles["count"] == len(profiles["results"]) >= 2 and all(p["name"] for p in profiles["results"])
