"""What the bench scripts share: a throw-away environment for the product's processes, and their memory.

Each script runs the product (a management command, gunicorn, a Celery worker) in child processes on a SQLite
database and a file-system broker under its own folder in /tmp (or on a PostgreSQL database and a Redis db of its
own: `postgres_redis`), and reads their memory from /proc.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_env(work: Path, **extra: str) -> dict:
    """The environment for a child process of the product, with every file under `work`."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "segsaas.settings",
            "SEGSAAS_VAR_DIR": str(work / "var"),
            "MEDIA_ROOT": str(work / "media"),
            "CELERY_BROKER_DIR": str(work / "broker"),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
    )
    env.update(extra)
    return env


def ensure_database(name: str) -> None:
    """Create the PostgreSQL database `name` on 127.0.0.1 (user postgres) when it does not exist yet."""
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def postgres_redis(database: str, redis_db: int) -> dict:
    """`DATABASE_URL` and `CELERY_BROKER_URL` for a bench's own PostgreSQL database (created when missing) and Redis
    db on this machine, as a deployment runs."""
    ensure_database(database)
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
    }


def status_mb(pid: int | str, key: str) -> float:
    """A memory figure of /proc/PID/status in MB: `VmRSS` (now) or `VmHWM` (the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int | str = "self") -> bool:
    """Start VmHWM again from the current resident size (False where the kernel does not allow it)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_worker_pid(master: int, timeout: float = 30) -> int:
    """The pid of the (single) worker that a gunicorn master started."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def start_gunicorn(env: dict, port: int, timeout: int = 900, *, workers: int = 1) -> tuple[subprocess.Popen, int]:
    """The production server (`workers` sync workers, each request allowed `timeout` seconds), once /healthz answers:
    (the master, the pid of its first worker). `os.killpg(master.pid, ...)` stops it."""
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "segsaas.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    pid = gunicorn_worker_pid(server.pid)
    deadline = time.time() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                break
        except OSError:
            if time.time() > deadline:
                server.kill()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.3)
    return server, pid


def django_in_process(work: Path, name: str) -> dict:
    """Set Django up in this process on `bench_env(work)` (or on PostgreSQL + Redis when DATABASE_URL /
    CELERY_BROKER_URL are set: use a database of your own, it is migrated), with queues of this run only; returns
    the environment for the product's child processes (workers)."""
    import sys

    work.mkdir(parents=True, exist_ok=True)
    keep = {k: os.environ[k] for k in ("DATABASE_URL", "CELERY_BROKER_URL") if os.environ.get(k)}
    env = bench_env(work, CELERY_TASK_DEFAULT_QUEUE=f"{name}-bench-{os.getpid()}", LOG_LEVEL="INFO", **keep)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    import django

    django.setup()
    return env


def start_worker(work: Path, env: dict, name: str, *, queues: list[str], concurrency: int = 1) -> subprocess.Popen:
    """A Celery worker in its own process group (`os.killpg(proc.pid, ...)` stops it), once it is ready."""
    log = work / f"worker-{name}.log"
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "celery", "-A", "segsaas", "worker", "--concurrency", str(concurrency),
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", ",".join(queues), "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    while "ready." not in log.read_text():
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(0.1)
    return proc


def organization(name: str, user, **limits):
    """A new organization with `user` as its owner (and the plan `limits` given, e.g. `max_rows=`)."""
    from accounts.services import organization_create

    return organization_create(name=name, owner=user, **limits)


def predict_records(frame) -> list[dict]:
    """A dataset's rows as `predict` takes them: JSON values, dates as YYYY-MM-DD, missing values left out."""
    import json

    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [
        {k: (v[:10] if isinstance(v, str) and "T00:00:00" in v else v) for k, v in r.items() if v is not None}
        for r in records
    ]


def percentile(values, q: float) -> float:
    """The q-th percentile (nearest rank) of `values`; NaN for none."""
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))] if values else float("nan")


def median(values) -> float:
    """The median of `values` (nearest rank); NaN for none, so a run where every request failed still prints."""
    return percentile(values, 50)


def load_average() -> str:
    """The 1-minute load average, as /proc/loadavg says it."""
    return Path("/proc/loadavg").read_text().split()[0]


def _exchange(conn, method, path, body, headers, started: float, ok, body_chars: int):
    """One request on `conn`: (seconds from `started` until its body was read, or None; the error, or None; whether
    the connection must be reopened). A status that is not `ok` or a socket error is an error, not timed."""
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{method} {path}: {type(exc).__name__} {exc}", True
    elapsed = time.perf_counter() - started
    reopen = response.getheader("Connection", "").lower() == "close"
    if not ok(response.status):
        return None, f"{method} {path} -> {response.status}: {data[:body_chars]!r}", reopen
    return elapsed, None, reopen


def closed_loop(
    port: int,
    next_request,
    seconds: float,
    concurrency: int,
    *,
    keep_alive: bool = True,
    timeout: float = 30,
    ok=lambda status: 200 <= status < 300,
    body_chars: int = 200,
) -> dict:
    """CONCURRENCY client threads each send requests one after another for SECONDS to the server on `port`.
    `next_request()` gives (kind, method, path, body bytes or None, headers). A request is timed until its body is
    read; one whose status is not `ok` (or a socket error) is an error, not timed. `keep_alive`: a thread reuses its
    connection (reopened when the server closes it or fails), else one connection per request.
    Returns {"latencies": {kind: [seconds, ...]}, "errors": ["METHOD PATH -> status: body", ...], "wall": seconds}
    (the first `body_chars` bytes of an error's body)."""
    import threading

    results: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def client():
        mine: dict[str, list[float]] = {}
        conn = connect()
        while time.perf_counter() < stop:
            kind, method, path, body, headers = next_request()
            elapsed, error, reopen = _exchange(conn, method, path, body, headers, time.perf_counter(), ok, body_chars)
            if error:
                with lock:
                    errors.append(error)
            else:
                mine.setdefault(kind, []).append(elapsed)
            if reopen or not keep_alive:
                conn.close()
                conn = connect()
        conn.close()
        with lock:
            for k, v in mine.items():
                results.setdefault(k, []).extend(v)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": results, "errors": errors, "wall": time.perf_counter() - t0}


def open_loop(
    port: int | dict,
    next_request,
    seconds: float,
    rate: float,
    *,
    threads: int = 32,
    timeout: float = 30,
    ok=lambda status: 200 <= status < 300,
    body_chars: int = 200,
    seed: int = 0,
) -> dict:
    """Requests that arrive on their own schedule, as users' do: Poisson arrivals at RATE per second for SECONDS,
    whether or not earlier requests have been answered (a closed loop instead waits for each answer, so it measures
    a saturated server's queue). Each request is timed from its scheduled arrival, so time spent waiting for a free
    client thread counts (no coordinated omission). THREADS client threads with kept-alive connections send them.
    `port`: the server's, or {kind: port, None: default port} to send some kinds to a server of their own.
    Returns what `closed_loop` returns, plus "late": arrivals sent more than 100 ms after their time."""
    import queue
    import random
    import threading

    rnd = random.Random(seed)
    arrivals: queue.Queue = queue.Queue()
    results: dict[str, list[float]] = {}
    errors: list[str] = []
    late = [0]
    lock = threading.Lock()

    ports = port if isinstance(port, dict) else {None: port}

    def client():
        mine: dict[str, list[float]] = {}
        conns: dict[int, http.client.HTTPConnection] = {}
        while (item := arrivals.get()) is not None:
            due, (kind, method, path, body, headers) = item
            to = ports.get(kind, ports[None])
            conn = conns.get(to) or conns.setdefault(to, http.client.HTTPConnection("127.0.0.1", to, timeout=timeout))
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.1:
                with lock:
                    late[0] += 1
            elapsed, error, reopen = _exchange(conn, method, path, body, headers, due, ok, body_chars)
            if error:
                with lock:
                    errors.append(error)
            else:
                mine.setdefault(kind, []).append(elapsed)
            if reopen:
                conns.pop(to).close()
        for conn in conns.values():
            conn.close()
        with lock:
            for k, v in mine.items():
                results.setdefault(k, []).extend(v)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    t0 = time.perf_counter()
    due = t0
    while True:
        due += rnd.expovariate(rate)
        if due >= t0 + seconds:
            break
        pause = due - time.perf_counter() - 0.05  # hand each request to a thread just before its time
        if pause > 0:
            time.sleep(pause)
        arrivals.put((due, next_request()))
    for _ in workers:
        arrivals.put(None)
    for w in workers:
        w.join()
    return {"latencies": results, "errors": errors, "wall": time.perf_counter() - t0, "late": late[0]}


def stop_worker(proc: subprocess.Popen, timeout: float = 30) -> None:
    """TERM the worker's process group; KILL it if it has not stopped after `timeout` seconds."""
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
