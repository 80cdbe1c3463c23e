"""Dataset pages: list, upload (drag and drop, XHR progress), synthetic generation, detail with the
profile and the roles form, delete. Thin: load through the fence, check, call a service, render."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.context import actor_can, org_required, require
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from datasets import services
from datasets.forms import BEHAVIOUR_FIELDS, OrderLogForm, RolesForm, SyntheticForm, UploadForm
from datasets.models import Dataset, DatasetStatus
from datasets.validation import DELIMITERS

_ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "xlsx": "Excel workbook",
}


def _get_dataset(request, dataset_id) -> Dataset:
    return get_object_for_org(
        Dataset.objects.for_organization(request.organization).select_related("job", "uploaded_by"),
        request.organization,
        pk=dataset_id,
    )


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# What a list of datasets never shows: each row's profile, schema and roles (JSON of every column), decoded for
# nothing (with 180 datasets the list took 300 ms, most of it json.loads).
LIST_DEFERRED = (
    "schema",
    "profile",
    "roles",
    "behaviour_roles",
    "synthetic_params",
    "order_columns",
    "job__params",
    "job__result",
)


@org_required(Perm.VIEW)
@require_GET
def dataset_list(request):
    from segsaas.paging import page_of

    datasets = (
        Dataset.objects.for_organization(request.organization)
        .select_related("uploaded_by", "job")
        .defer(*LIST_DEFERRED)
    )
    return render(request, "datasets/list.html", {"datasets": page_of(request, datasets)})


@org_required(Perm.MANAGE_DATASETS)
@require_http_methods(["GET", "POST"])
def dataset_upload(request):
    org = request.organization
    error = None
    form = UploadForm()
    if request.method == "POST":
        # Refuse an oversized body before Django reads it to disk.
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > org.max_upload_bytes + 1024 * 1024:
            error = (
                f"The upload is {length:,} bytes; this organization's upload limit is {org.max_upload_bytes:,} bytes."
            )
        else:
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    dataset = services.dataset_create_from_upload(
                        organization=org,
                        uploaded_by=request.user,
                        file=upload,
                        name=form.cleaned_data["name"],
                        filename=form.cleaned_data["filename"] or upload.name,
                    )
                except services.DatasetRejected as exc:
                    error = exc.message
                else:
                    url = reverse("datasets:detail", args=[dataset.pk])
                    if _wants_json(request):
                        return JsonResponse({"id": dataset.pk, "status": dataset.status, "redirect": url})
                    messages.success(request, f"Uploaded {dataset.name}.")
                    return redirect(url)
            else:
                error = "Choose a file to upload." if "file" in form.errors else "The form is incomplete."
        if _wants_json(request):
            return JsonResponse({"error": error}, status=400)
    return render(
        request,
        "datasets/upload.html",
        {
            "form": form,
            "error": error,
            "max_upload_bytes": org.max_upload_bytes,
            "max_rows": org.max_rows,
            "max_columns": org.max_columns,
        },
        status=400 if error else 200,
    )


@org_required(Perm.MANAGE_DATASETS)
@require_http_methods(["GET", "POST"])
def dataset_synthetic(request):
    form = SyntheticForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.dataset_create_synthetic(
                organization=request.organization,
                created_by=request.user,
                rows=form.cleaned_data["rows"],
                seed=form.cleaned_data["seed"],
                name=form.cleaned_data["name"],
            )
        except services.DatasetError as exc:
            error = exc.message
        else:
            if dataset.status == DatasetStatus.READY:
                messages.success(
                    request, f"Generated “{dataset.name}”. Check the column roles below, then run an analysis."
                )
            else:
                messages.success(
                    request,
                    f"Generating “{dataset.name}” ({dataset.row_count:,} customers) in the background; "
                    "this page follows its progress.",
                )
            return redirect("datasets:detail", dataset.pk)
    return render(
        request,
        "datasets/synthetic.html",
        {
            "form": form,
            "error": error,
            "inline_max_rows": services.inline_max_rows(),
        },
        status=400 if (error or form.errors) else 200,
    )


WARNING_LABELS = {
    "constant": "Constant",
    "id_like": "ID-like",
    "mostly_missing": "Mostly missing",
    "mixed_types": "Mixed types",
    "mixed_formats": "Date formats",
    "empty": "Empty",
    "id_duplicates": "Repeated IDs",
}


def _labelled(warnings: list[dict]) -> list[dict]:
    return [
        {**w, "label": WARNING_LABELS.get(w.get("kind"), str(w.get("kind", "")).replace("_", " ").capitalize())}
        for w in warnings
    ]


def _stored_bytes(dataset) -> int:
    try:
        return dataset.data_file.size if dataset.data_file else 0
    except OSError:
        return 0


def _versions_context(dataset, version_error=None) -> dict:
    from datasets.versions import version_latest

    if dataset.status != DatasetStatus.READY:
        return {"versions": [], "version_error": version_error}
    version_latest(dataset)
    return {
        "versions": list(dataset.versions.select_related("uploaded_by", "job")),
        "version_error": version_error,
    }


def _parse_column_map(text: str) -> dict:
    """ "current name = name in the new file", one a line."""
    mapping = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise services.DatasetError(
                f"Line {n} of the renamed columns ({line.strip()!r}) is not “current name = new name”.",
                field="column_map",
            )
        old, new = (part.strip() for part in line.split("=", 1))
        mapping[old] = new
    return mapping


@org_required(Perm.VIEW)
@require_POST
def dataset_add_version(request, dataset_id: int):
    dataset = _get_dataset(request, dataset_id)
    require(request, Perm.MANAGE_DATASETS)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = request.organization.max_upload_bytes
    error = None
    upload = request.FILES.get("file")
    if length > limit + 1024 * 1024:
        error = f"The upload is {length:,} bytes; this organization's upload limit is {limit:,} bytes."
    elif upload is None:
        error = "Choose the new version's file."
    else:
        try:
            version = services.dataset_add_version(
                dataset=dataset,
                file=upload,
                filename=upload.name,
                uploaded_by=request.user,
                column_map=_parse_column_map(request.POST.get("column_map", "")),
            )
        except services.DatasetError as exc:
            error = exc.describe() if exc.others else exc.message
        else:
            if version.status == DatasetStatus.PROCESSING:
                messages.success(request, f"Version {version.number} is being processed ({version.row_count:,} rows).")
            else:
                messages.success(
                    request,
                    f"Version {version.number} added: {version.row_count:,} rows, {version.column_count} columns.",
                )
            return redirect(reverse("datasets:detail", args=[dataset.pk]) + "#versions")
    dataset.refresh_from_db()
    return render(request, "datasets/detail.html", _detail_context(request, dataset, version_error=error), status=400)


def _detail_context(request, dataset, roles_form=None, roles_error=None, order_form=None, version_error=None) -> dict:
    profile = dataset.profile or {}
    columns = [{**c, "warnings": _labelled(c.get("warnings", []))} for c in profile.get("columns", [])]
    if roles_form is None and dataset.status == DatasetStatus.READY:
        roles_form = RolesForm(dataset=dataset)
    rows = []
    for i, col in enumerate(columns):
        rows.append(
            {
                "col": col,
                "field": roles_form[f"role_{i}"] if roles_form and f"role_{i}" in roles_form.fields else None,
                "inferred": (profile.get("inferred_roles") or {}).get(col["name"]),
            }
        )
    upload = profile.get("upload") or {}
    return {
        "dataset": dataset,
        "profile": profile,
        "column_rows": rows,
        "roles_form": roles_form,
        "roles_error": roles_error,
        "behaviour_fields": _behaviour_fields(dataset, roles_form),
        "recurring_charge": dataset.inferred_behaviour_units.get("recurring_charge"),
        "charge_fields": [roles_form["charge_col"], roles_form["charge_period"]] if roles_form else [],
        "engagement_rows": roles_form.engagement_rows(dataset.roles or {}) if roles_form else [],
        "preview": _preview_display(profile.get("preview") or {"columns": [], "rows": []}),
        "warnings": _labelled(profile.get("warnings", [])),
        "stored_bytes": _stored_bytes(dataset) if dataset.source == "synthetic" else 0,
        "encoding_label": _ENCODINGS.get(dataset.encoding, dataset.encoding),
        "delimiter_label": DELIMITERS.get(dataset.delimiter, ""),
        "upload_notes": upload.get("notes", []),
        "sheet": upload.get("sheet", ""),
        "defaults": _defaults_display(dataset),
        "can_manage": actor_can(request, Perm.MANAGE_DATASETS),
        "order_form": order_form or (OrderLogForm(dataset=dataset) if dataset.status == DatasetStatus.READY else None),
        "order_log": dataset.order_log,
        **_versions_context(dataset, version_error),
        **_history_context(dataset),
    }


def _history_context(dataset) -> dict:
    """Segment shares, churn risk and LTV across the dataset's runs (line charts), when there are two runs or more."""
    if dataset.status != DatasetStatus.READY:
        return {}
    from segments.charts.changes import history_figures

    return {"history_figures": history_figures(dataset)}


def _behaviour_fields(dataset, roles_form) -> list[dict]:
    """Each behaviour column's select, with its unit's select and the inferred unit's evidence (recency, tenure)."""
    from segments.engine.units import UNIT_KEYS, UNIT_LABELS

    if not roles_form:
        return []
    inferred = dataset.inferred_behaviour_units
    out = []
    for key, _, _ in BEHAVIOUR_FIELDS:
        unit_key = UNIT_KEYS.get(key)
        guess = inferred.get(unit_key) if unit_key else None
        # A unit the client stated is the one every run uses: shown as stated, the inference only beside it.
        stated = (dataset.behaviour_roles or {}).get(unit_key) if unit_key and guess else None
        out.append(
            {
                "field": roles_form[key],
                "unit": roles_form[unit_key] if unit_key else None,
                "guess": guess,
                "guess_label": UNIT_LABELS.get(guess["unit"], guess["unit"]) if guess else "",
                "stated": stated,
                "stated_label": UNIT_LABELS.get(stated, stated).lower() if stated else "",
            }
        )
    return out


def _preview_display(preview: dict) -> dict:
    """Whole numbers shown as integers: a column whose previewed values are all whole floats (datasets stored
    before whole-number columns were written as integers) shows 3, not 3.0."""
    rows = [list(r) for r in preview.get("rows") or []]
    for j in range(len(preview.get("columns") or [])):
        values = [r[j] for r in rows if j < len(r) and r[j] is not None]
        if values and all(isinstance(v, float) and v.is_integer() for v in values):
            for r in rows:
                if j < len(r) and r[j] is not None:
                    r[j] = int(r[j])
    return {**preview, "rows": rows}


def _defaults_display(dataset) -> list[tuple[str, str]]:
    if dataset.status != DatasetStatus.READY:
        return []
    defaults = services.dataset_analysis_defaults(dataset)
    return [(k, _default_text(v)) for k, v in defaults.items()]


def _default_text(value) -> str:
    if isinstance(value, dict):  # engagement columns: {column: "more" | "less"}
        return ", ".join(f"{c} (more = {'more' if d == 'more' else 'less'} engaged)" for c, d in value.items())
    return ", ".join(value) if isinstance(value, list) else (value or "")


@org_required(Perm.VIEW)
@require_GET
def dataset_detail(request, dataset_id: int):
    dataset = _get_dataset(request, dataset_id)
    return render(request, "datasets/detail.html", _detail_context(request, dataset))


@org_required(Perm.VIEW)
@require_POST
def dataset_roles(request, dataset_id: int):
    dataset = _get_dataset(request, dataset_id)
    require(request, Perm.MANAGE_DATASETS)
    if dataset.status != DatasetStatus.READY:
        messages.error(request, "The dataset is not ready yet; roles can be set once profiling has finished.")
        return redirect("datasets:detail", dataset.pk)
    form = RolesForm(request.POST, dataset=dataset)
    error = None
    if form.is_valid():
        try:
            services.dataset_update_roles(
                dataset=dataset,
                roles=form.roles(),
                behaviour_roles=form.behaviour_roles(),
                engagement=form.engagement(),
                actor=request.user,
            )
        except services.DatasetError as exc:
            error = exc.message
        else:
            messages.success(request, "Column roles saved; new analyses of this dataset start from them.")
            return redirect(reverse("datasets:detail", args=[dataset.pk]) + "#roles")
    else:
        error = "Some roles are not valid choices."
    return render(request, "datasets/detail.html", _detail_context(request, dataset, form, error), status=400)


@org_required(Perm.VIEW)
@require_POST
def dataset_kind(request, dataset_id: int):
    """Confirm the table's kind and, for an order log, its columns (read and checked by the service)."""
    dataset = _get_dataset(request, dataset_id)
    require(request, Perm.MANAGE_DATASETS)
    form = OrderLogForm(request.POST, dataset=dataset)
    if form.is_valid():
        try:
            services.dataset_set_kind(
                dataset=dataset, kind=form.cleaned_data["kind"], order_columns=form.order_columns(), actor=request.user
            )
        except services.DatasetError as exc:
            form.show_error(exc)
        else:
            if dataset.is_order_log:
                messages.success(request, "Saved: this dataset is an order log; its columns were read and checked.")
            else:
                messages.success(request, "Saved: this dataset is a customer table (one row per customer).")
            return redirect(reverse("datasets:detail", args=[dataset.pk]) + "#order-log")
    dataset.refresh_from_db()
    return render(request, "datasets/detail.html", _detail_context(request, dataset, order_form=form), status=400)


@org_required(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def dataset_delete(request, dataset_id: int):
    dataset = _get_dataset(request, dataset_id)
    require(request, Perm.MANAGE_DATASETS)
    if request.method == "POST":
        name = dataset.name
        services.dataset_delete(dataset=dataset, actor=request.user)
        messages.success(request, f"Deleted {name} and everything derived from it.")
        return redirect("datasets:list")
    analyses = getattr(dataset, "analyses", None)
    return render(
        request,
        "datasets/delete.html",
        {
            "dataset": dataset,
            "analysis_count": analyses.count() if analyses is not None else 0,
        },
    )


@org_required(Perm.VIEW)
@require_GET
def dataset_download_original(request, dataset_id: int):
    dataset = _get_dataset(request, dataset_id)
    require(request, Perm.EXPORT)
    if not dataset.original_file:
        raise Http404("This dataset has no original file")
    from accounts.services import audit

    audit(
        organization=request.organization,
        action="dataset.downloaded",
        actor=request.user,
        target=dataset.name,
        dataset_id=dataset.pk,
    )
    from segsaas import storage

    name = dataset.original_filename or dataset.original_file.name.rsplit("/", 1)[-1]
    return storage.download(dataset.original_file.name, filename=name).as_response()
