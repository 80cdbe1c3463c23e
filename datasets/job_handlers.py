"""Background work for datasets: converting + profiling a large upload, generating a large synthetic set.

Thin: load the dataset through the tenant fence, call one service, report progress through `ctx`.
A failed or cancelled job marks the dataset failed (with the reason) and removes its files.
"""

from jobs.services import JobError, register


def _dataset(ctx):
    from datasets.models import Dataset

    dataset = Dataset.objects.for_organization(ctx.organization).filter(pk=ctx.job.params.get("dataset_id")).first()
    if dataset is None:
        raise JobError("The dataset was deleted before it could be processed.")
    return dataset


def _cleanup(job) -> None:
    from datasets import storage
    from datasets.models import Dataset, DatasetStatus

    dataset = Dataset.objects.for_organization(job.organization).filter(pk=job.params.get("dataset_id")).first()
    if dataset is None:
        # Deleted while the job ran: files it wrote after the deletion must not stay behind.
        directory = job.params.get("storage_dir") or ""
        if directory.startswith(f"org-{job.organization_id}/datasets/"):
            storage.delete_tree(directory)
        return
    storage.delete_dataset_files(dataset)
    reason = job.error or ("Cancelled before it finished." if job.status == "cancelled" else "Processing failed.")
    Dataset.objects.for_organization(job.organization).filter(pk=dataset.pk).update(
        status=DatasetStatus.FAILED, error=reason, original_file="", data_file=""
    )


@register("datasets.import", on_fail=_cleanup, weight="heavy")  # only large uploads are imported in a job
def import_upload(ctx) -> dict:
    from datasets.services import DatasetError, dataset_process_upload

    try:
        dataset = dataset_process_upload(_dataset(ctx), progress=ctx.progress)
    except DatasetError as exc:
        raise JobError(str(exc)) from exc
    return {"dataset_id": dataset.pk, "rows": dataset.row_count, "columns": dataset.column_count}


@register("datasets.synthetic", on_fail=_cleanup, weight="heavy")
def generate(ctx) -> dict:
    from datasets.services import DatasetError, dataset_generate

    try:
        dataset = dataset_generate(_dataset(ctx), progress=ctx.progress)
    except DatasetError as exc:
        raise JobError(str(exc)) from exc
    return {"dataset_id": dataset.pk, "rows": dataset.row_count, "columns": dataset.column_count}


def _version_cleanup(job) -> None:
    from datasets.versions import version_on_job_fail

    version_on_job_fail(job)


@register("datasets.version", on_fail=_version_cleanup, weight="heavy")  # only large versions use a job
def process_version(ctx) -> dict:
    from datasets.models import DatasetVersion
    from datasets.versions import version_process

    version = (
        DatasetVersion.objects.for_organization(ctx.organization).filter(pk=ctx.job.params.get("version_id")).first()
    )
    if version is None:
        raise JobError("The dataset was deleted before its new version could be processed.")
    version = version_process(version, progress=ctx.progress)
    return {"dataset_id": version.dataset_id, "version": version.number, "rows": version.row_count}
