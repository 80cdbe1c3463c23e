"""Dataset versions: a new month's file of the same customer table.

`dataset_add_version()` runs the upload's own validation (`validation.validate_upload`), conversion and profiling
on the new file, compares its columns with the latest version (`schema_changes()`), and either refuses it, naming
the column, or stores it as the dataset's next version: its files under `versions/<n>/` of the dataset's
directory, the dataset's own fields switched to it, and the roles people confirmed carried over. A refusal leaves
nothing behind. `version_ensure_first()` records the table a dataset was created with as version 1.
"""

from __future__ import annotations

import logging

from django.db import transaction

from datasets import storage
from datasets.models import ColumnRole, Dataset, DatasetStatus, DatasetVersion
from datasets.validation import DatasetError, DatasetRejected, validate_upload
from segments.engine.config import BEHAVIOUR_KEYS, ENGAGEMENT_KEY
from segsaas import storage as files

log = logging.getLogger(__name__)

NUMERIC_TYPES = {"int", "float"}
# The stored types a column of each role must keep in a new version (other roles take any type).
ROLE_TYPES = {
    ColumnRole.NUMERIC: NUMERIC_TYPES,
    ColumnRole.MONETARY: NUMERIC_TYPES,
    ColumnRole.DATE: {"date"},
}


def _types(schema) -> dict[str, str]:
    return {c["name"]: c.get("type") or "text" for c in schema or [] if isinstance(c, dict) and c.get("name")}


def schema_changes(
    old_schema: list[dict], new_schema: list[dict], *, roles: dict, behaviour: dict, column_map: dict | None = None
) -> dict:
    """Compare a new version's columns (after `column_map` {old name: name in the new file} was applied, so mapped
    columns carry their old names) with the previous version's. Returns {"added", "removed", "retyped", "mapped"}.
    Raises DatasetRejected naming the first column that cannot be carried over: a column the analyses use
    (any role but Ignore, or a behaviour column) that is gone, or one whose new type does not fit its role."""
    old, new = _types(old_schema), _types(new_schema)
    behaviour = behaviour or {}
    behaviour_columns = {behaviour.get(k) for k in BEHAVIOUR_KEYS if behaviour.get(k)}
    behaviour_columns |= set(behaviour.get(ENGAGEMENT_KEY) or {})  # {column: direction}
    removed = [c for c in old if c not in new]
    added = [c for c in new if c not in old]
    retyped = [
        {"column": c, "from": old[c], "to": new[c]}
        for c in old
        if c in new and old[c] != new[c] and not (old[c] in NUMERIC_TYPES and new[c] in NUMERIC_TYPES)
    ]
    errors = []
    for c in removed:
        role = roles.get(c, ColumnRole.IGNORE)
        if role != ColumnRole.IGNORE or c in behaviour_columns:
            label = ColumnRole(role).label if role in ColumnRole.values else role
            errors.append(
                DatasetRejected(
                    f"Column {c!r} ({label}) is missing from the new file. Map it to a column of the new file, or set "
                    f"its role to Ignore before adding the version.",
                    field="column_map",
                )
            )
    for change in retyped:
        c, role = change["column"], roles.get(change["column"])
        allowed = ROLE_TYPES.get(role)
        if allowed and change["to"] not in allowed:
            errors.append(
                DatasetRejected(
                    f"Column {c!r} was {change['from']} and is {change['to']} in the new file, which does not fit its "
                    f"role ({ColumnRole(role).label}).",
                    field="column_map",
                )
            )
    if errors:
        raise DatasetRejected.of(errors)
    return {"added": added, "removed": removed, "retyped": retyped, "mapped": dict(column_map or {})}


def _check_column_map(column_map: dict, old_columns: list[str], header: list[str]) -> dict:
    clean = {}
    for old, new in (column_map or {}).items():
        old, new = str(old).strip(), str(new).strip()
        if old not in old_columns:
            raise DatasetRejected(f"Column {old!r} is not a column of the current version.", field="column_map")
        if new not in header:
            raise DatasetRejected(f"Column {new!r} is not in the new file.", field="column_map")
        if new != old and old in header:
            raise DatasetRejected(
                f"Column {old!r} is still in the new file; it cannot also be mapped from {new!r}.", field="column_map"
            )
        if new != old:
            clean[old] = new
    return clean


def version_ensure_first(dataset: Dataset) -> DatasetVersion:
    """The dataset's version 1: the table it was created with (made once the dataset is ready)."""
    version, _ = DatasetVersion.objects.for_organization(dataset.organization).get_or_create(
        dataset=dataset,
        number=1,
        defaults={
            "original_file": dataset.original_file.name if dataset.original_file else "",
            "original_filename": dataset.original_filename,
            "data_file": dataset.data_file.name if dataset.data_file else "",
            "file_size": dataset.file_size,
            "row_count": dataset.row_count,
            "column_count": dataset.column_count,
            "schema": dataset.schema,
            "profile": dataset.profile,
            "uploaded_by": dataset.uploaded_by,
        },
    )
    return version


def version_latest(dataset: Dataset) -> DatasetVersion | None:
    """The latest ready version (the one the dataset's own fields describe)."""
    version = (
        DatasetVersion.objects.for_organization(dataset.organization)
        .filter(dataset=dataset, status=DatasetStatus.READY)
        .first()
    )
    if version is None and dataset.status == DatasetStatus.READY:
        version = version_ensure_first(dataset)
    return version


def version_dir(dataset: Dataset, number: int) -> str:
    return f"{storage.dataset_dir(dataset)}/versions/{int(number)}"


def dataset_add_version(
    *,
    dataset: Dataset,
    file,
    uploaded_by=None,
    filename: str | None = None,
    column_map: dict | None = None,
    background: bool | None = None,
) -> DatasetVersion:
    """Validate `file` as the dataset's next version and store it; convert, profile and compare its columns in this
    request, or (large files, or `background=True`) in a `datasets.version` job. Raises DatasetRejected /
    DatasetError (nothing stored) when the file or its columns cannot be used; a job that refuses it marks the
    version failed with the reason (see the module's docstring)."""
    import os

    from datasets.services import _file_size, _info_dict, inline_max_bytes, inline_max_rows

    if dataset.status != DatasetStatus.READY:
        raise DatasetError(
            f"Dataset “{dataset.name}” is {dataset.status}; a new version can be added once it is ready.",
            field="dataset",
        )
    versions = DatasetVersion.objects.for_organization(dataset.organization).filter(dataset=dataset)
    if versions.filter(status=DatasetStatus.PROCESSING).exists():
        raise DatasetError(
            f"A version of “{dataset.name}” is still being processed; add the next one when it is ready.",
            field="file",
        )
    previous = version_latest(dataset)
    filename = filename if filename is not None else os.path.basename(getattr(file, "name", "") or "")
    info = validate_upload(file, filename=filename, size=_file_size(file), organization=dataset.organization)
    column_map = _check_column_map(column_map or {}, previous.column_names, info.header)
    if background is None:
        background = info.size > inline_max_bytes() or info.row_count > inline_max_rows()
    number = max(previous.number, max(versions.values_list("number", flat=True), default=0)) + 1
    directory = version_dir(dataset, number)
    try:
        file.seek(0)
        original = files.save(f"{directory}/{storage.ORIGINAL_NAMES[info.kind]}", file)
        with transaction.atomic():
            version = DatasetVersion.objects.for_organization(dataset.organization).create(
                dataset=dataset,
                number=number,
                status=DatasetStatus.PROCESSING,
                original_file=original,
                original_filename=info.display_name[:255],
                file_size=info.size,
                row_count=info.row_count,
                column_count=len(info.header),
                schema=[{"name": h, "type": "text"} for h in info.header],
                profile={"upload": _info_dict(info)},
                column_map=column_map,
                uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
            )
            if background:
                from jobs.services import job_create

                version.job = job_create(
                    organization=dataset.organization,
                    kind=VERSION_JOB_KIND,
                    params={"version_id": version.pk, "dataset_id": dataset.pk, "storage_dir": directory},
                    created_by=uploaded_by,
                )
                version.save(update_fields=["job"])
        if not background:
            version_process(version)
    except BaseException:
        files.delete_tree(directory)
        DatasetVersion.objects.for_organization(dataset.organization).filter(dataset=dataset, number=number).delete()
        raise
    return version


VERSION_JOB_KIND = "datasets.version"


def version_process(version: DatasetVersion, *, progress=None) -> DatasetVersion:
    """Convert and profile a stored new version, compare its columns with the latest ready version and switch the
    dataset to it. Raises DatasetRejected naming the column that cannot be carried over."""
    import pyarrow.parquet as pq

    from datasets.conversion import convert_upload
    from datasets.profiling import profile_parquet

    progress = progress or (lambda stage, pct: None)
    dataset = Dataset.objects.for_organization(version.organization).get(pk=version.dataset_id)
    previous = version_latest(dataset)
    info = version.profile["upload"]
    data_name = f"{version_dir(dataset, version.number)}/{storage.DATA_NAME}"
    progress("Reading rows", 5)
    with files.local_copy(version.original_file) as source, files.local_target(data_name) as target:
        convert_upload(source, info, target, progress=progress)
        if version.column_map:
            table = pq.read_table(target)
            renames = {new: old for old, new in version.column_map.items()}
            table = table.rename_columns([renames.get(c, c) for c in table.column_names])
            pq.write_table(table, target)
        profile = profile_parquet(target, progress=progress)
    profile["upload"] = info
    schema = [{"name": c["name"], "type": c["stored_type"]} for c in profile["columns"]]
    changes = schema_changes(
        previous.schema,
        schema,
        roles=dataset.roles or {},
        behaviour=dataset.behaviour_roles or {},
        column_map=version.column_map,
    )
    version.data_file = data_name
    version.row_count = profile["row_count"]
    version.column_count = profile["column_count"]
    version.schema = schema
    version.profile = profile
    version.schema_changes = changes
    version.status = DatasetStatus.READY
    with transaction.atomic():
        version.save()
        _switch_dataset_to(dataset, version)
    transaction.on_commit(lambda: _version_ready(version))
    progress("Done", 100)
    return version


def version_on_job_fail(job) -> None:
    """A refused or cancelled large version: its files go, its row stays as failed with the reason."""
    version = DatasetVersion.objects.for_organization(job.organization).filter(pk=job.params.get("version_id")).first()
    directory = job.params.get("storage_dir") or ""
    if directory.startswith(f"org-{job.organization_id}/datasets/"):
        files.delete_tree(directory)
    if version is not None:
        reason = job.error or ("Cancelled before it finished." if job.status == "cancelled" else "Processing failed.")
        DatasetVersion.objects.for_organization(job.organization).filter(pk=version.pk).update(
            status=DatasetStatus.FAILED, error=reason, original_file="", data_file=""
        )


def _switch_dataset_to(dataset: Dataset, version: DatasetVersion) -> None:
    """The dataset's own fields now describe `version`; confirmed roles carry over to the columns still there,
    new columns take the roles detected in the new file."""
    columns = version.column_names
    inferred = version.profile.get("inferred_roles") or {}
    roles = {c: (dataset.roles or {}).get(c) or inferred.get(c) or ColumnRole.TEXT for c in columns}
    old = dataset.behaviour_roles or {}
    behaviour = dict(old)  # units and other settings carry over as they are
    for key in BEHAVIOUR_KEYS:
        behaviour[key] = old.get(key) if old.get(key) in columns else None
    if ENGAGEMENT_KEY in old:
        behaviour[ENGAGEMENT_KEY] = {c: d for c, d in (old[ENGAGEMENT_KEY] or {}).items() if c in columns}
    dataset.original_file.name = version.original_file
    dataset.original_filename = version.original_filename
    dataset.data_file.name = version.data_file
    dataset.file_size = version.file_size
    dataset.row_count = version.row_count
    dataset.column_count = version.column_count
    dataset.schema = version.schema
    dataset.profile = version.profile
    dataset.roles = roles
    dataset.behaviour_roles = behaviour
    dataset.encoding = (version.profile.get("upload") or {}).get("encoding") or dataset.encoding
    dataset.delimiter = (version.profile.get("upload") or {}).get("delimiter") or ""
    dataset.save(
        update_fields=[
            "original_file",
            "original_filename",
            "data_file",
            "file_size",
            "row_count",
            "column_count",
            "schema",
            "profile",
            "roles",
            "behaviour_roles",
            "encoding",
            "delimiter",
        ]
    )


def _version_ready(version: DatasetVersion) -> None:
    """After the version is committed: tell whoever listens (webhooks, schedules that run on every new version)."""
    from monitoring.services import on_version_ready

    try:
        on_version_ready(version)
    except Exception:  # noqa: BLE001 - the version is stored; a failed notification must not undo it
        log.exception("Notifying about version %s of dataset %s failed", version.number, version.dataset_id)
