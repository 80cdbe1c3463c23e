"""Peak memory while parsing each file of the hostile upload corpus (tests/datasets/hostile_corpus.py).

    .venv/bin/python bench/upload_hostile_memory.py [--limit-mb 1024]

A throw-away SQLite database and media directory under /tmp/segsaas-hostile-bench. For every case this process calls
the upload service the page and the API use (`dataset_create_from_upload(..., background=False)`: validation,
storage, conversion to Parquet, profile) with the resident-memory peak reset just before (`/proc/self/clear_refs`),
then reads the peak (VmHWM). Prints one line per case (outcome, seconds, peak MB) and the largest peak; exits 1 if a
case's outcome differs from the corpus's expectation or a peak passes the limit (1 GB by default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/segsaas-hostile-bench")


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_hwm() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=1024.0)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    os.environ.update(
        SEGSAAS_VAR_DIR=str(WORK / "var"),
        MEDIA_ROOT=str(WORK / "media"),
        CELERY_BROKER_DIR=str(WORK / "broker"),
        DATABASE_URL=f"sqlite:///{WORK / 'var' / 'bench.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        DJANGO_SETTINGS_MODULE="segsaas.settings",
        LOG_LEVEL="WARNING",
    )
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "datasets")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.http.multipartparser import MultiPartParser
    from hostile_corpus import UPLOAD_LIMIT, Accepted, corpus

    from accounts.models import Organization
    from datasets.services import dataset_create_from_upload
    from datasets.validation import DatasetRejected

    def as_received(name: str) -> str:  # the name Django's upload parser hands over (client directories dropped)
        return MultiPartParser.sanitize_file_name(MultiPartParser.__new__(MultiPartParser), name)

    org = Organization.objects.create(name="Bench", slug="bench", max_upload_bytes=UPLOAD_LIMIT)
    cases = corpus()
    worst, wrong = 0.0, []
    print(f"{len(cases)} files; upload limit {UPLOAD_LIMIT:,} bytes; memory limit {args.limit_mb:,.0f} MB")
    print(f"{'case':32} {'bytes':>11} {'outcome':10} {'s':>6} {'peak MB':>8}")
    for case in cases:
        path = WORK / "upload.bin"
        path.write_bytes(case.content)
        _reset_hwm()
        started = time.perf_counter()
        with path.open("rb") as fh:
            try:
                dataset = dataset_create_from_upload(
                    organization=org,
                    uploaded_by=None,
                    file=fh,
                    filename=as_received(case.filename),
                    background=False,
                )
                outcome = f"ok {dataset.row_count}x{dataset.column_count}"
                matches = isinstance(case.expect, Accepted) and (dataset.row_count, dataset.column_count) == (
                    case.expect.rows,
                    case.expect.columns,
                )
            except DatasetRejected as exc:
                outcome = "refused"
                matches = not isinstance(case.expect, Accepted) and case.expect.message in str(exc)
        seconds = time.perf_counter() - started
        peak = _hwm_mb()
        worst = max(worst, peak)
        if not matches:
            wrong.append(case.name)
        print(
            f"{case.name:32} {len(case.content):>11,} {outcome:10} {seconds:6.2f} {peak:8.0f}{'' if matches else '  UNEXPECTED'}"
        )
    print(
        f"largest parsing peak: {worst:,.0f} MB (limit {args.limit_mb:,.0f} MB); unexpected outcomes: {len(wrong)} {wrong}"
    )
    return 1 if wrong or worst >= args.limit_mb else 0


if __name__ == "__main__":
    sys.exit(main())
