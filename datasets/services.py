"""Dataset writes and reads used by the pages, the API, the `import_dataset` command and the jobs alike.

- `dataset_create_from_upload()` validates a file by streaming it (`validation.validate_upload`), and
  only then stores it: a rejection raises `DatasetRejected` and leaves nothing behind (no row, no file).
  Small files are converted and profiled inline; large ones in a `datasets.import` job.
- `dataset_create_synthetic()` makes a dataset with the engine's generator (inline or a
  `datasets.synthetic` job).
- `dataset_update_roles()` stores the roles the user confirmed; `dataset_analysis_defaults()` turns
  them into the engine's AnalysisConfig keys.
- `dataset_delete()` removes the row (analyses cascade) and the dataset's whole storage directory,
  which holds every derived file too (see `datasets.storage`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from datasets import storage
from datasets.models import ColumnRole, Dataset, DatasetKind, DatasetSource, DatasetStatus
from datasets.validation import DatasetError, DatasetRejected, UploadInfo, validate_upload
from segments.engine.config import (
    BEHAVIOUR_KEYS,
    BEHAVIOUR_SETTING_KEYS,
    ENGAGEMENT_KEY,
    analysis_roles,
    behaviour_role_errors,
    behaviour_unit_errors,
    config_from_roles,
)
from segments.engine.units import CHARGE_KEYS, UNIT_KEYS, check_period
from segsaas import storage as files

log = logging.getLogger(__name__)


def dataset_add_version(**kwargs):
    """A new version of a dataset's table: see `datasets.versions.dataset_add_version`."""
    from datasets.versions import dataset_add_version as add

    return add(**kwargs)


__all__ = [
    "DatasetError",
    "DatasetRejected",
    "dataset_add_version",
    "dataset_analysis_defaults",
    "dataset_create_from_upload",
    "dataset_create_synthetic",
    "dataset_delete",
    "dataset_read_dataframe",
    "dataset_set_kind",
    "dataset_update_roles",
    "demo_dataset_ensure",
]

MAX_SYNTHETIC_ROWS = 1_000_000
DEMO_DATASET_NAME = "Demo customers (synthetic)"
Progress = Callable[[str, float], None]


def inline_max_bytes() -> int:
    """Uploads up to this size are converted and profiled in the request; larger ones in a job."""
    return int(settings.DATASETS_INLINE_MAX_BYTES)


def inline_max_rows() -> int:
    """Synthetic datasets (and uploads) up to this many rows are made in the request."""
    return int(settings.DATASETS_INLINE_MAX_ROWS)


def _file_size(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        pos = file.tell()
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(pos)
    return int(size)


def _default_name(display_name: str) -> str:
    stem = display_name
    for ext in (".csv.gz", ".tsv.gz", ".txt.gz", ".csv", ".tsv", ".txt", ".xlsx"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return (stem.strip() or "Dataset")[:200]


def _info_dict(info: UploadInfo) -> dict:
    return {
        "kind": info.kind,
        "display_name": info.display_name,
        "header": info.header,
        "row_count": info.row_count,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "short_rows": info.short_rows,
        "notes": info.notes,
    }


def _discard(dataset: Dataset) -> None:
    """Remove a dataset that could not be created: its files, then its row."""
    storage.delete_dataset_files(dataset)
    if dataset.pk:
        Dataset.objects.for_organization(dataset.organization).filter(pk=dataset.pk).delete()


# ---------------------------------------------------------------------------------------------------
# Upload


def dataset_create_from_upload(
    *,
    organization,
    uploaded_by,
    file,
    name: str | None = None,
    filename: str | None = None,
    background: bool | None = None,
) -> Dataset:
    """Validate and store an uploaded table. `file` is a binary file object (an UploadedFile or an open
    file); `filename` is the client's name for it (default `file.name`), shown but never used as a path.
    `background=None` picks by size: inline up to `inline_max_bytes()`, else a job."""
    filename = filename if filename is not None else os.path.basename(getattr(file, "name", "") or "")
    info = validate_upload(file, filename=filename, size=_file_size(file), organization=organization)
    if background is None:
        background = info.size > inline_max_bytes() or info.row_count > inline_max_rows()
    dataset = Dataset(
        organization=organization,
        name=(name or "").strip()[:200] or _default_name(info.display_name),
        source=DatasetSource.UPLOAD,
        status=DatasetStatus.PROCESSING,
        storage_key=storage.new_storage_key(),
        original_filename=info.display_name[:255],
        file_size=info.size,
        encoding=info.encoding or ("xlsx" if info.kind == "xlsx" else ""),
        delimiter=info.delimiter,
        row_count=info.row_count,
        column_count=len(info.header),
        schema=[{"name": h, "type": "text"} for h in info.header],
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
        profile={"upload": _info_dict(info)},
    )
    try:
        file.seek(0)
        # Fixed names inside a random directory: the client's file name never reaches the path.
        dataset.original_file.name = files.save(storage.original_path(dataset, info.kind), file)
    except BaseException:
        _discard(dataset)
        raise
    return _save_then_process(dataset, "datasets.import", uploaded_by, background, dataset_process_upload)


def _save_then_process(dataset: Dataset, kind: str, user, background: bool, process) -> Dataset:
    """Store the new dataset, then `process` it in this request, or in a job of `kind`. Anything going wrong
    removes it whole (its row and files): no half-made dataset is ever left."""
    try:
        with transaction.atomic():
            dataset.save()
            if background:
                _start_job(dataset, kind, user)
        if not background:
            process(dataset)
    except BaseException:
        _discard(dataset)
        raise
    from accounts.services import audit

    audit(
        organization=dataset.organization,
        action="dataset.uploaded" if dataset.source == DatasetSource.UPLOAD else "dataset.generated",
        actor=user,
        target=dataset.name,
        dataset_id=dataset.pk,
        rows=dataset.row_count,
        file=dataset.original_filename or "",
    )
    return dataset


def _start_job(dataset: Dataset, kind: str, user) -> None:
    from jobs.services import job_create

    # The directory is in the params too, so a cancelled job can clean up after a dataset deleted meanwhile.
    params = {"dataset_id": dataset.pk, "storage_dir": storage.dataset_dir(dataset)}
    job = job_create(organization=dataset.organization, kind=kind, params=params, created_by=user)
    dataset.job = job
    dataset.save(update_fields=["job"])


def _store_parquet(dataset: Dataset, writer: Callable[[str], dict]) -> dict:
    """`writer(path)` writes the normalised table to a local path; it is then stored as the dataset's data file."""
    name = storage.data_path(dataset)
    with files.local_target(name) as target:
        result = writer(target)
    if dataset.data_file and dataset.data_file.name != name:
        files.delete(dataset.data_file.name)
    dataset.data_file.name = name
    return result


def _finish_with_profile(dataset: Dataset, progress: Progress) -> Dataset:
    from datasets.profiling import profile_parquet

    with files.local_copy(dataset.data_file.name) as path:
        profile = profile_parquet(path, progress=progress)
    upload = (dataset.profile or {}).get("upload")
    if upload:
        profile["upload"] = upload
    dataset.profile = profile
    dataset.schema = [{"name": c["name"], "type": c["stored_type"]} for c in profile["columns"]]
    dataset.row_count = profile["row_count"]
    dataset.column_count = profile["column_count"]
    dataset.roles = dict(profile["inferred_roles"])
    dataset.behaviour_roles = {
        **{k: profile["inferred_behaviour_roles"].get(k) for k in BEHAVIOUR_SETTING_KEYS},
        ENGAGEMENT_KEY: dict(profile.get("inferred_engagement") or {}),
    }
    dataset.roles_confirmed = False
    _detect_order_log(dataset)
    dataset.status = DatasetStatus.READY
    dataset.error = ""
    if not Dataset.objects.for_organization(dataset.organization).filter(pk=dataset.pk).exists():
        # Deleted while it was being processed: leave no files behind.
        storage.delete_dataset_files(dataset)
        raise DatasetError("The dataset was deleted while it was being processed.")
    dataset.save(
        update_fields=[
            "profile",
            "schema",
            "row_count",
            "column_count",
            "roles",
            "behaviour_roles",
            "roles_confirmed",
            "kind",
            "order_columns",
            "status",
            "error",
            "data_file",
        ]
    )
    from datasets.versions import version_ensure_first

    version_ensure_first(dataset)
    progress("Done", 100)
    return dataset


def dataset_process_upload(dataset: Dataset, *, progress: Progress | None = None) -> Dataset:
    """Convert a stored upload to Parquet and profile it (inline, or inside the import job)."""
    from datasets.conversion import convert_upload

    progress = progress or (lambda stage, pct: None)
    info = dataset.profile["upload"]
    progress("Reading rows", 5)
    with files.local_copy(dataset.original_file.name) as source:
        result = _store_parquet(dataset, lambda target: convert_upload(source, info, target, progress=progress))
    if result["row_count"] != info["row_count"]:
        log.warning(
            "Dataset %s: validation counted %s rows, conversion %s", dataset.pk, info["row_count"], result["row_count"]
        )
    return _finish_with_profile(dataset, progress)


# ---------------------------------------------------------------------------------------------------
# Synthetic


def dataset_create_synthetic(
    *, organization, created_by, rows: int, seed: int, name: str | None = None, background: bool | None = None
) -> Dataset:
    """A dataset of `rows` customers from the engine's generator (inline when small, else a job)."""
    try:
        rows, seed = int(rows), int(seed)
    except (TypeError, ValueError) as exc:
        raise DatasetError("Rows and seed must be whole numbers.", field="rows") from exc
    limit = min(MAX_SYNTHETIC_ROWS, organization.max_rows)
    if rows < 100 or rows > limit:
        raise DatasetError(f"Rows must be between 100 and {limit:,}; {rows:,} was asked for.", field="rows")
    if seed < 0 or seed > 2**32 - 1:
        raise DatasetError("The seed must be between 0 and 4,294,967,295.", field="seed")
    if background is None:
        background = rows > inline_max_rows()
    dataset = Dataset(
        organization=organization,
        name=(name or "").strip()[:200] or f"Synthetic customers ({rows:,} rows, seed {seed})",
        source=DatasetSource.SYNTHETIC,
        status=DatasetStatus.PROCESSING,
        storage_key=storage.new_storage_key(),
        row_count=rows,
        uploaded_by=created_by if getattr(created_by, "pk", None) else None,
        synthetic_params={"rows": rows, "seed": seed, "include_churn_label": True},
    )
    return _save_then_process(dataset, "datasets.synthetic", created_by, background, dataset_generate)


def dataset_generate(dataset: Dataset, *, progress: Progress | None = None) -> Dataset:
    from datasets.conversion import write_frame

    progress = progress or (lambda stage, pct: None)
    params = dataset.synthetic_params
    progress(f"Generating {params['rows']:,} customers", 5)
    from segments.engine import generate_synthetic

    frame = generate_synthetic(
        rows=params["rows"], seed=params["seed"], include_churn_label=params.get("include_churn_label", True)
    )
    progress("Writing Parquet", 45)
    _store_parquet(dataset, lambda target: write_frame(frame, target))
    frame = None  # free the table before profiling reads the file back
    return _finish_with_profile(dataset, progress)


def demo_dataset_ensure(*, organization, uploaded_by, rows: int = 10_000) -> tuple[Dataset, bool]:
    """The demo organization's synthetic dataset, made inline once (no worker needed)."""
    existing = (
        Dataset.objects.for_organization(organization)
        .filter(name=DEMO_DATASET_NAME, source=DatasetSource.SYNTHETIC, status=DatasetStatus.READY)
        .first()
    )
    if existing is not None:
        return existing, False
    dataset = dataset_create_synthetic(
        organization=organization, created_by=uploaded_by, rows=rows, seed=42, name=DEMO_DATASET_NAME, background=False
    )
    return dataset, True


# ---------------------------------------------------------------------------------------------------
# Roles


def dataset_update_roles(
    *,
    dataset: Dataset,
    roles: dict,
    behaviour_roles: dict | None = None,
    engagement: dict | None = None,
    actor=None,
) -> Dataset:
    """Store the column roles the user confirmed, the behaviour columns and the engagement columns ({column:
    "more" | "less"}; None keeps them). Raises DatasetError naming the column (and the field) at fault."""
    columns = dataset.column_names
    unknown = sorted(set(roles) - set(columns))
    if unknown:
        raise DatasetError(f"Column {unknown[0]!r} is not in this dataset.", field="roles")
    allowed = set(ColumnRole.values)
    clean: dict[str, str] = {}
    for col in columns:
        role = roles.get(col, dataset.roles.get(col))
        if role not in allowed:
            raise DatasetError(
                f"Column {col!r}: {role!r} is not a role ({', '.join(ColumnRole.values)}).", field="roles"
            )
        clean[col] = role
    labels = [c for c, r in clean.items() if r == ColumnRole.CHURN_LABEL]
    if len(labels) > 1:
        raise DatasetError(
            f"Only one column can be the churn label; {', '.join(repr(c) for c in labels)} all are.", field="roles"
        )
    behaviour = dict(dataset.behaviour_roles or {})
    if behaviour_roles is not None:
        previous = dict(behaviour)
        behaviour.update({key: behaviour_roles.get(key) or None for key in BEHAVIOUR_KEYS})
        for key, unit_key in UNIT_KEYS.items():
            if unit_key in behaviour_roles:
                behaviour[unit_key] = behaviour_roles[unit_key] or None
            elif behaviour.get(key) != previous.get(key):  # another column: its own unit, inferred
                behaviour[unit_key] = None
        for key in CHARGE_KEYS:  # a declared recurring charge and its period
            if key in behaviour_roles:
                behaviour[key] = behaviour_roles[key] or None
        if not behaviour.get("charge_col"):
            behaviour["charge_period"] = None
        errors = behaviour_role_errors(clean, behaviour)
        errors += behaviour_unit_errors(clean, behaviour)
        if errors:
            raise DatasetError.of([DatasetError(e.message, field=e.field) for e in errors])
        behaviour["charge_period"] = check_period(behaviour.get("charge_period"))
    if engagement is not None:
        behaviour[ENGAGEMENT_KEY] = _checked_engagement(engagement, clean)
    dataset.roles = clean
    dataset.behaviour_roles = {
        **{k: behaviour.get(k) for k in BEHAVIOUR_SETTING_KEYS},
        **({ENGAGEMENT_KEY: behaviour[ENGAGEMENT_KEY]} if ENGAGEMENT_KEY in behaviour else {}),
    }
    dataset.roles_confirmed = True
    dataset.save(update_fields=["roles", "behaviour_roles", "roles_confirmed"])
    if actor is not None:
        from accounts.services import audit

        audit(
            organization=dataset.organization,
            action="dataset.roles_updated",
            actor=actor,
            target=dataset.name,
            dataset_id=dataset.pk,
        )
    return dataset


def _checked_engagement(engagement: dict, roles: dict) -> dict:
    """{column: direction} with every column in the dataset, a direction the engine knows and a role that holds
    numbers or dates; the first problem is refused with the column named."""
    from segments.engine.config import ENGAGEMENT_DIRECTIONS
    from segments.engine.engagement import check_directions

    problems = check_directions(engagement, roles)
    if problems:
        raise DatasetError(problems[0][1], field=ENGAGEMENT_KEY)
    for column in engagement:
        if roles[column] not in ("numeric", "monetary", "date"):
            raise DatasetError(
                f"Engagement column {column!r} is {roles[column].replace('_', ' ')}; engagement is read from a "
                f"numeric or date column ({' / '.join(ENGAGEMENT_DIRECTIONS.values()).lower()}).",
                field=ENGAGEMENT_KEY,
            )
    return {c: engagement[c] for c in roles if c in engagement}


def dataset_analysis_defaults(dataset: Dataset) -> dict:
    """The engine config's column keys from the dataset's (confirmed or detected) roles, through the one mapping
    (`segments.engine.config`): the first identifier column is the customer id; further identifier columns
    (names, e-mails) stay out of the analysis."""
    return config_from_roles(analysis_roles(dataset.in_column_order(dataset.roles)), dataset.behaviour_roles)


# ---------------------------------------------------------------------------------------------------
# Kind: customer table or order log


def _detect_order_log(dataset: Dataset) -> None:
    """At profiling: a table that looks like an order log (a date, an amount, a customer id that repeats) becomes
    a "transactions" dataset, with its eligibility checked; anything else stays a customer table."""
    from segments.engine.clv.product import detect_order_columns

    profile = dataset.profile or {}
    detected = detect_order_columns(profile.get("columns") or [], int(profile.get("row_count") or 0))
    if detected is None:
        dataset.kind = DatasetKind.CUSTOMERS
        dataset.order_columns = {}
        return
    dataset.kind = DatasetKind.TRANSACTIONS
    dataset.order_columns = detected
    try:
        profile["order_log"] = order_log_check(dataset, detected)
    except DatasetError as exc:
        profile["order_log"] = _unreadable(exc.message)
    profile["order_log"]["detected"] = True


def _unreadable(message: str) -> dict:
    return {
        "eligible": False,
        "reasons": [
            {
                "code": "unreadable",
                "message": message,
                "advice": "Choose the right customer, date and amount columns below, or correct the file and upload "
                "it again.",
            }
        ],
    }


def order_log_check(dataset: Dataset, columns: dict) -> dict:
    """The engine's eligibility check of the dataset's table read as an order log with `columns`. Raises
    DatasetError (field "order_columns") when the log cannot be read: the engine's message names the column, row
    and value."""
    from segments.engine.clv import CLVConfig
    from segments.engine.clv.product import check_order_log
    from segments.engine.errors import EngineError

    config = order_log_config(columns)
    try:
        with files.local_copy(dataset.data_file.name) as path:
            result = check_order_log(path, CLVConfig.from_dict(config))
    except EngineError as exc:
        raise DatasetError(_dataset_message(exc.message, dataset), field="order_columns") from exc
    result["checked_with"] = CLVConfig.from_dict(config).to_dict()
    result["warnings"] = _currency_warnings(dataset, columns.get("currency_col"))
    return result


def _currency_warnings(dataset: Dataset, column: str | None) -> list[str]:
    """Amounts are added up as they are: a log in several currencies is said to be one, with its currencies."""
    if not column:
        return []
    profile = next((c for c in (dataset.profile or {}).get("columns") or [] if c.get("name") == column), {})
    if int(profile.get("distinct") or 0) <= 1:
        return []
    shown = ", ".join(str(v.get("value")) for v in (profile.get("top_values") or [])[:5])
    return [
        f"The currency column {column!r} holds {profile['distinct']:,} currencies ({shown}); amounts are added up "
        "as they are. Convert them to one currency before uploading for lifetime values in one currency."
    ]


def _dataset_message(message: str, dataset: Dataset) -> str:
    """The engine names a scratch copy of the file; people know it by the dataset's name."""
    import re

    return re.sub(r"^'[^']*\.parquet': ", f"“{dataset.name}”: ", message)


def order_log_config(columns: dict) -> dict:
    """CLVConfig options for an order log's columns (currency and product are kept for people, not the models)."""
    return {
        "customer_col": columns["customer_col"],
        "date_col": columns["date_col"],
        "amount_col": columns["amount_col"],
        "order_id_col": columns.get("order_id_col") or None,
    }


def dataset_set_kind(*, dataset: Dataset, kind: str, order_columns: dict | None = None, actor=None) -> Dataset:
    """Confirm what the table is: a customer table, or an order log with its columns (customer id, date, amount
    required; order id, currency, product optional). The log is read with the engine's rules and its eligibility
    checked; a column that is missing or unreadable raises DatasetError naming it, and nothing changes."""
    from segments.engine.clv.product import ORDER_COLUMN_KEYS, ORDER_COLUMN_LABELS, REQUIRED_ORDER_KEYS

    if dataset.status != DatasetStatus.READY:
        raise DatasetError(f"Dataset “{dataset.name}” is not ready yet ({dataset.status}).", field="kind")
    if kind not in DatasetKind.values:
        raise DatasetError(f"{kind!r} is not a kind of dataset ({', '.join(DatasetKind.values)}).", field="kind")
    profile = dict(dataset.profile or {})
    if kind == DatasetKind.CUSTOMERS:
        dataset.kind = kind
        dataset.save(update_fields=["kind"])
    else:
        given = {**(dataset.order_columns or {}), **(order_columns or {})}
        unknown = sorted(set(order_columns or {}) - set(ORDER_COLUMN_KEYS))
        if unknown:
            raise DatasetError(
                f"{unknown[0]!r} is not an order-log column setting ({', '.join(ORDER_COLUMN_KEYS)}).", field=unknown[0]
            )
        columns = {key: (given.get(key) or None) for key in ORDER_COLUMN_KEYS}
        errors = []
        for key in ORDER_COLUMN_KEYS:
            value = columns[key]
            if value is None and key in REQUIRED_ORDER_KEYS:
                errors.append(DatasetError(f"Choose the {ORDER_COLUMN_LABELS[key].lower()} column.", field=key))
            elif value is not None and value not in dataset.column_names:
                errors.append(DatasetError(f"{value!r} is not a column of “{dataset.name}”.", field=key))
        chosen = [v for k, v in columns.items() if v]
        twice = sorted({v for v in chosen if chosen.count(v) > 1})
        if twice and not errors:
            errors.append(
                DatasetError(f"Column {twice[0]!r} is chosen for two parts of the order log.", field="order_columns")
            )
        if errors:
            raise DatasetError.of(errors)
        check = order_log_check(dataset, columns)
        profile["order_log"] = check
        dataset.kind = kind
        dataset.order_columns = columns
        dataset.profile = profile
        dataset.save(update_fields=["kind", "order_columns", "profile"])
    if actor is not None:
        from accounts.services import audit

        audit(
            organization=dataset.organization,
            action="dataset.kind_confirmed",
            actor=actor,
            target=dataset.name,
            dataset_id=dataset.pk,
            kind=kind,
        )
    return dataset


# ---------------------------------------------------------------------------------------------------
# Reading and deleting


def dataset_read_dataframe(dataset: Dataset, columns: list[str] | None = None, *, version=None):
    """The normalised table as a pandas DataFrame (all rows; pass `columns` to read fewer): the latest version's,
    or that of `version` (a `DatasetVersion` of this dataset)."""
    if dataset.status != DatasetStatus.READY or not dataset.data_file:
        raise DatasetError(f"Dataset {dataset.name!r} is not ready yet ({dataset.get_status_display().lower()}).")
    if version is not None and version.data_file:
        return files.read_parquet(version.data_file, columns=columns)
    return files.read_parquet(dataset.data_file.name, columns=columns)


def dataset_delete(*, dataset: Dataset, actor=None) -> None:
    """Delete a dataset, everything derived from it (analyses cascade) and its whole storage directory."""
    from accounts.services import audit

    job = dataset.job
    if job is not None and job.is_active:
        from jobs.services import job_cancel

        job_cancel(job, actor=actor, target=dataset.name)
    name, pk, org = dataset.name, dataset.pk, dataset.organization
    with transaction.atomic():
        audit(
            organization=org,
            action="dataset.deleted",
            actor=actor,
            target=name,
            dataset_id=pk,
            rows=dataset.row_count,
            source=dataset.source,
        )
        dataset.delete()
    storage.delete_dataset_files(dataset)
