"""Leaving at scale: the organization archive (one ZIP of everything) and the purge, with figures.

    .venv/bin/python bench/org_archive.py [--rows 200000] [--analyses 2]

Uses its own SQLite database (unless DATABASE_URL is set) and files under var/bench-archive/. Makes an organization
with one synthetic dataset of `--rows` customers and `--analyses` finished analyses (run in-process through the job
machinery), then prints:
  1. the archive job: wall time, peak RSS of this process, ZIP size against the stored files' size, entries;
  2. the purge: wall time, rows and stored files before and after.
"""

import argparse
import os
import resource
import time

from procs import ROOT, django_in_process, organization


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rows_of(org_id) -> int:
    from django.apps import apps

    from accounts.models import Organization

    total = Organization.objects.filter(pk=org_id).count()
    for model in apps.get_models():
        field = next((f for f in model._meta.get_fields() if f.name == "organization" and f.is_relation), None)
        if field is not None and field.related_model is Organization:
            total += model._base_manager.filter(organization_id=org_id).count()
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--analyses", type=int, default=2)
    args = parser.parse_args()
    django_in_process(ROOT / "var" / "bench-archive", "archive")
    from django.core.management import call_command

    from accounts.leaving import ARCHIVE_JOB_KIND, organization_delete_request
    from accounts.services import user_get_or_create
    from datasets.services import dataset_create_synthetic
    from datasets.storage import organization_dir
    from jobs.services import job_create, job_execute
    from segments.services import analysis_create, analysis_default_config
    from segsaas import storage

    user, _ = user_get_or_create(email="archive-bench@segsaas.local", password="bench-password-2026")
    org = organization(f"Archive bench {time.time():.0f}", user, max_rows=5_000_000)
    t0 = time.perf_counter()
    dataset = dataset_create_synthetic(organization=org, created_by=user, rows=args.rows, seed=7, background=False)
    print(f"dataset: {args.rows:,} customers in {time.perf_counter() - t0:.1f} s")
    for k in range(args.analyses):
        config = analysis_default_config(dataset) | {"n_clusters": 4 + k, "nlp": False}
        analysis = analysis_create(organization=org, dataset=dataset, config=config, created_by=user)
        t0 = time.perf_counter()
        assert job_execute(analysis.job_id) == "succeeded"
        print(f"analysis k={4 + k}: {time.perf_counter() - t0:.1f} s")

    files = storage.list_tree(organization_dir(org.pk))
    stored = sum(storage.size(name) for name in files)
    rss_before = peak_rss_mb()
    job = job_create(organization=org, kind=ARCHIVE_JOB_KIND, params={}, created_by=user)
    t0 = time.perf_counter()
    assert job_execute(job.pk) == "succeeded"
    took = time.perf_counter() - t0
    job.refresh_from_db()
    import zipfile

    with storage.open(job.result["file"]) as fh:
        entries = len(zipfile.ZipFile(fh).namelist())
    print(
        f"archive: {took:.1f} s, ZIP {job.result['size'] / 1e6:.1f} MB ({entries} entries) from {len(files)} stored "
        f"files of {stored / 1e6:.1f} MB, peak RSS {rss_before:.0f} -> {peak_rss_mb():.0f} MB"
    )

    organization_delete_request(organization=org, actor=user, confirm_name=org.name)
    type(org).objects.filter(pk=org.pk).update(purge_after=org.deletion_requested_at)
    before_rows, before_files = rows_of(org.pk), len(storage.list_tree(organization_dir(org.pk)))
    t0 = time.perf_counter()
    call_command("purge_organizations", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(
        f"purge: {time.perf_counter() - t0:.1f} s; rows {before_rows:,} -> {rows_of(org.pk)}, "
        f"files {before_files} -> {len(storage.list_tree(organization_dir(org.pk)))}"
    )


if __name__ == "__main__":
    main()
