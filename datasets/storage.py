"""Where a dataset's files live, and how they are removed (the files themselves go through `segsaas.storage`).

Layout in the file storage (local disk under MEDIA_ROOT, or an S3 bucket: see `segsaas.storage`):

    org-<organization_id>/                                 everything of one organization
      datasets/<storage_key>/
        original.csv | original.csv.gz | original.xlsx    the upload, byte for byte (uploads only)
        data.parquet                                       the normalised table every reader uses
        analyses/<analysis_id>/...                         files derived by analyses (models, results, charts, exports)

`storage_key` is random; the uploaded file's name is never part of a path (it is kept in
`Dataset.original_filename` for display only).

Convention for other apps: anything derived from a dataset (fitted models, per-customer results,
exports) goes under `analysis_dir(dataset, analysis_id)`. `dataset_delete()` removes the whole
`dataset_dir()` tree, so derived files disappear with their dataset without signals or hooks; deleting an
organization (by any means: admin, shell) removes its whole `organization_dir()` once the deletion commits.
"""

from __future__ import annotations

import secrets

from segsaas.storage import delete_tree

__all__ = [
    "DATA_NAME",
    "ORIGINAL_NAMES",
    "analysis_dir",
    "data_path",
    "dataset_dir",
    "delete_dataset_files",
    "delete_organization_files",
    "delete_tree",
    "new_storage_key",
    "organization_dir",
    "original_path",
]

DATA_NAME = "data.parquet"
ORIGINAL_NAMES = {"csv": "original.csv", "csv.gz": "original.csv.gz", "xlsx": "original.xlsx"}


def new_storage_key() -> str:
    return secrets.token_hex(16)


def dataset_dir(dataset) -> str:
    return f"{organization_dir(dataset.organization_id)}/datasets/{dataset.storage_key}"


def analysis_dir(dataset, analysis_id: int) -> str:
    """Directory (storage path) for files an analysis of this dataset produces."""
    return f"{dataset_dir(dataset)}/analyses/{int(analysis_id)}"


def data_path(dataset) -> str:
    """The normalised Parquet table."""
    return f"{dataset_dir(dataset)}/{DATA_NAME}"


def original_path(dataset, kind: str) -> str:
    """The upload as it came (`kind`: csv, csv.gz or xlsx)."""
    return f"{dataset_dir(dataset)}/{ORIGINAL_NAMES[kind]}"


def organization_dir(organization_id: int) -> str:
    return f"org-{int(organization_id)}"


def delete_dataset_files(dataset) -> None:
    if dataset.storage_key and dataset.organization_id:
        delete_tree(dataset_dir(dataset))


def delete_organization_files(organization_id: int) -> None:
    delete_tree(organization_dir(organization_id))
