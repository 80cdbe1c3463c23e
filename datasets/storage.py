"""Where a dataset's files live, and how they are removed.

Layout in the default file storage (local disk, or S3 through django-storages as a settings change):

    org-<organization_id>/datasets/<storage_key>/
        original.csv | original.csv.gz | original.xlsx    the upload, byte for byte (uploads only)
        data.parquet                                       the normalised table every reader uses
        analyses/<analysis_id>/...                         files derived by analyses (models, results, exports)

`storage_key` is random; the uploaded file's name is never part of a path (it is kept in
`Dataset.original_filename` for display only).

Convention for other apps: anything derived from a dataset (fitted models, per-customer results,
exports) goes under `analysis_dir(dataset, analysis_id)`. `dataset_delete()` removes the whole
`dataset_dir()` tree, so derived files disappear with their dataset without signals or hooks.
"""

from __future__ import annotations

import secrets
import shutil

from django.core.files.storage import default_storage

DATA_NAME = "data.parquet"
ORIGINAL_NAMES = {"csv": "original.csv", "csv.gz": "original.csv.gz", "xlsx": "original.xlsx"}


def new_storage_key() -> str:
    return secrets.token_hex(16)


def dataset_dir(dataset) -> str:
    return f"org-{dataset.organization_id}/datasets/{dataset.storage_key}"


def analysis_dir(dataset, analysis_id: int) -> str:
    """Directory (storage path) for files an analysis of this dataset produces."""
    return f"{dataset_dir(dataset)}/analyses/{int(analysis_id)}"


def delete_tree(path: str, storage=None) -> None:
    """Remove every file under `path` (a storage directory), then the directory itself where that exists."""
    storage = storage or default_storage
    if not path or ".." in path.split("/"):
        raise ValueError(f"refusing to delete {path!r}")
    try:
        local = storage.path(path)
    except NotImplementedError:
        local = None
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
        return
    _delete_remote_tree(storage, path)


def _delete_remote_tree(storage, path: str) -> None:
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in files:
        storage.delete(f"{path}/{name}")
    for name in dirs:
        _delete_remote_tree(storage, f"{path}/{name}")


def delete_dataset_files(dataset) -> None:
    if dataset.storage_key and dataset.organization_id:
        delete_tree(dataset_dir(dataset))
