"""`bin/run` starts the server and a worker per queue (light, heavy); Ctrl-C (SIGINT to its process group) or a
TERM to bin/run stops every process it started within 15 s, and none survives re-parented."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import ROOT, TMP, free_port

STOP_WITHIN = 15.0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


@pytest.mark.parametrize("how", ["TERM to bin/run", "Ctrl-C"])
def test_bin_run_stops_every_process_it_started(how, tmp_path):
    import requests

    port = free_port()
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "SEGSAAS_TEST_RUN", "CELERY_TASK_DEFAULT_QUEUE", "JOB_HANDLER_MODULES"):
        env.pop(name, None)
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        CELERY_BROKER_URL="filesystem://",
        CELERY_TASK_DEFAULT_QUEUE=f"binrun-{port}",
        JOB_HANDLER_MODULES="worker_job_kinds",  # the tests' job kinds (tests/ on the path)
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
    )
    log = open(TMP / f"bin-run-{port}.log", "w")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(
        ["bash", "bin/run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (TMP / f"bin-run-{port}.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            raise AssertionError(
                "bin/run did not serve /healthz:\n" + (TMP / f"bin-run-{port}.log").read_text()[-3000:]
            )
        # Both workers are up (and their pool processes) before we stop it.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = _descendants(proc.pid)
            workers = [pid for pid in started if " worker " in _cmdline(pid) and "celery" in _cmdline(pid)]
            if len(workers) >= 4:  # two main processes + at least one pool process each
                break
            time.sleep(0.5)
        assert len(workers) >= 4, [_cmdline(p) for p in started]
        queues = " ".join(_cmdline(p) for p in workers)
        assert f"-Q binrun-{port} " in queues and f"-Q binrun-{port}.heavy " in queues

        # A long job runs in the heavy worker: a polite TERM alone would wait for it (the case that left the worker
        # running before).
        subprocess.run(
            [
                str(ROOT / ".venv/bin/python"),
                "manage.py",
                "shell",
                "-c",
                "from accounts.models import Organization; from jobs.services import job_create; "
                "job_create(organization=Organization.objects.get(slug='acme-retail'), kind='test.heavy_sleep', "
                "params={'steps': 600, 'step_seconds': 0.1})",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
        heavy_log = ROOT / "var" / "worker-heavy.log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "] received" not in heavy_log.read_text():
            time.sleep(0.3)
        assert "] received" in heavy_log.read_text(), heavy_log.read_text()[-2000:]
        time.sleep(1)

        t0 = time.monotonic()
        if how == "Ctrl-C":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        survivors = started
        while time.monotonic() - t0 < STOP_WITHIN:
            survivors = {pid for pid in started if _alive(pid)}
            if not survivors and proc.poll() is not None:
                break
            time.sleep(0.2)
        took = time.monotonic() - t0
        assert proc.poll() is not None, "bin/run itself still runs"
        assert not survivors, f"still running after {took:.1f} s: {[_cmdline(p) for p in survivors]}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in started | _descendants(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()
