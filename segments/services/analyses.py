"""Analyses as people ask for them: the settings a run may have (one set of rules for the page, the API and
the `run_analysis` command), creating a run (it is queued as an `analysis.run` job), cancelling and deleting one."""

from __future__ import annotations

import logging

from django.db import transaction

from segments.engine.errors import UserFacingError
from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME, Analysis
from segsaas import storage

log = logging.getLogger(__name__)

JOB_KIND = "analysis.run"
# The settings of a run that are not column roles (the form's, the API's and the command's options), and their
# defaults.
DEFAULT_SETTINGS = {
    "algorithm": "kmeans",
    "n_clusters": None,
    "k_min": 2,
    "k_max": 10,
    "nlp": True,
    "random_state": 42,
    "dbscan_eps": None,  # DBSCAN's radius for those who set it (else chosen from the data)
}


class AnalysisError(UserFacingError):
    """An analysis that cannot be started as asked; `field` names the setting at fault."""


# --- configuration -------------------------------------------------------------------------------


def analysis_default_config(dataset) -> dict:
    """The engine config a new analysis of this dataset starts from: its confirmed (or detected) column roles."""
    from datasets.services import dataset_analysis_defaults

    if dataset.is_order_log:
        from segments.engine.clv.product import CUSTOMER_TABLE_CONFIG

        return {**DEFAULT_SETTINGS, **CUSTOMER_TABLE_CONFIG}
    return {**DEFAULT_SETTINGS, **dataset_analysis_defaults(dataset)}


# Lifetime-value options of an order-log analysis (segments/engine/clv CLVConfig keys) and their defaults.
CLV_SETTINGS = {"horizon_days": 365, "discount_rate": 0.10}
# ...as the settings of a run (the form's, the API's): "clv_horizon_days", "clv_discount_rate".
CLV_SETTING_KEYS = tuple(f"clv_{key}" for key in CLV_SETTINGS)


def _order_log_config(*, dataset, roles, behaviour, settings, config) -> dict:
    """An order log is segmented on the customer table built from it (RFM + CLV, fixed roles: see
    segments.engine.clv.product); only the run's settings can change. A log that cannot be read is refused with
    the reason the dataset page shows."""
    from segments.engine import AnalysisConfig, EngineError
    from segments.engine.clv import CLVConfig
    from segments.engine.clv.product import CUSTOMER_TABLE_CONFIG

    check = dataset.order_log
    unreadable = [r for r in check.get("reasons") or [] if r.get("code") == "unreadable"]
    if unreadable:
        raise AnalysisError(unreadable[0]["message"], field="dataset")
    if any((roles or {}).values()) and any(r not in (None, "auto") for r in (roles or {}).values()):
        raise AnalysisError(
            "An order log is analysed through the customer table built from it, whose column roles are fixed; "
            "choose the order log's columns on the dataset page instead.",
            field="roles",
        )
    if any((behaviour or {}).values()):
        raise AnalysisError(
            "An order log's recency, frequency and tenure come from its orders; they cannot be set.", field="roles"
        )
    base = {k: v for k, v in (config or {}).items() if k != "clv"}
    merged = {**DEFAULT_SETTINGS, **base, **CUSTOMER_TABLE_CONFIG}
    merged.update({key: value for key, value in (settings or {}).items() if key in DEFAULT_SETTINGS})
    clv = {**CLV_SETTINGS, **((config or {}).get("clv") or {})}
    clv.update(
        {
            key.removeprefix("clv_"): v
            for key, v in (settings or {}).items()
            if key in CLV_SETTING_KEYS and v is not None
        }
    )
    try:
        clean = AnalysisConfig.from_dict(merged).to_dict()
    except EngineError as exc:
        raise AnalysisError(exc.message, field=exc.field) from exc
    try:
        CLVConfig.from_dict({**order_log_options(dataset), **clv})
    except EngineError as exc:  # the engine names the option; people know the run's setting
        field = next((f"clv_{key}" for key in CLV_SETTINGS if repr(key) in exc.message), "clv_horizon_days")
        raise AnalysisError(_clv_setting_message(field, clv), field=field) from exc
    clean["clv"] = {key: clv[key] for key in CLV_SETTINGS}
    return clean


def _clv_setting_message(field: str, clv: dict) -> str:
    if field == "clv_discount_rate":
        return f"The discount rate is a yearly rate from 0 to under 1 (0.10 = 10 %), not {clv['discount_rate']!r}."
    return f"The CLV horizon is a whole number of days, at least 1, not {clv['horizon_days']!r}."


def order_log_options(dataset) -> dict:
    """CLVConfig column options of an order-log dataset."""
    from datasets.services import order_log_config

    return order_log_config(dataset.order_columns)


def analysis_config(
    *,
    dataset,
    roles: dict | None = None,
    behaviour: dict | None = None,
    settings: dict | None = None,
    config: dict | None = None,
) -> dict:
    """The engine config of a run, checked against the dataset up front: the same rules for the page, the API
    and the command. `roles` ({column: role or "auto"}, for all columns or some) and `behaviour` (the recency,
    frequency and tenure columns) go on top of `config` (default: the dataset's own roles); `settings` on
    top of that. Raises AnalysisError naming the field: an unknown column, two customer ids or churn labels, a
    column with two roles, a behaviour column that is neither a number nor a date, a setting out of range."""
    from segments.engine import (
        AUTO,
        BEHAVIOUR_KEYS,
        BEHAVIOUR_SETTING_KEYS,
        AnalysisConfig,
        EngineError,
        analysis_roles,
        behaviour_role_errors,
        behaviour_unit_errors,
        config_from_roles,
        roles_from_config,
    )
    from segments.engine.config import ENGAGEMENT_KEY, declared_columns
    from segments.engine.units import UNIT_KEYS

    if dataset.is_order_log:
        return _order_log_config(dataset=dataset, roles=roles, behaviour=behaviour, settings=settings, config=config)
    asked = [key for key in CLV_SETTING_KEYS if (settings or {}).get(key) is not None]
    if asked:
        raise AnalysisError(
            f"{asked[0]} applies to order logs only; dataset “{dataset.name}” is a customer table.", field=asked[0]
        )
    columns = dataset.column_names
    config = dict(config) if config is not None else analysis_default_config(dataset)
    behaviour = behaviour or {}
    unknown = [
        AnalysisError(f"Column {c!r} is not in dataset “{dataset.name}”.", field="roles")
        for c in roles or {}
        if c not in columns
    ] + [
        AnalysisError(f"{behaviour[key]!r} is not a column of dataset “{dataset.name}”.", field=key)
        for key in BEHAVIOUR_KEYS
        if behaviour.get(key) and behaviour[key] not in columns
    ]
    if unknown:
        raise AnalysisError.of(unknown)
    chosen = {key: behaviour[key] or None if key in behaviour else config.get(key) for key in BEHAVIOUR_SETTING_KEYS}
    for key, unit_key in UNIT_KEYS.items():  # another column than the dataset's: its unit is its own (inferred)
        if unit_key not in behaviour and behaviour.get(key) and behaviour[key] != config.get(key):
            chosen[unit_key] = None
    engagement = behaviour.get(ENGAGEMENT_KEY) if ENGAGEMENT_KEY in behaviour else config.get(ENGAGEMENT_KEY)
    if engagement is not None:  # confirmed engagement columns travel with the behaviour columns
        chosen[ENGAGEMENT_KEY] = engagement
    try:
        if roles is not None:
            current = roles_from_config(config, columns) if config is not None else dataset.roles or {}
            current = dataset.in_column_order({c: r for c, r in current.items() if r != AUTO})
            merged = analysis_roles(current, dataset.in_column_order(roles))
            config.update(config_from_roles(dataset.in_column_order(merged), chosen))
        else:
            config.update(chosen)
        config.update({key: value for key, value in (settings or {}).items() if key in DEFAULT_SETTINGS})
        if config.get("algorithm") != "dbscan" and "dbscan_eps" not in (settings or {}):
            config["dbscan_eps"] = None  # a re-run with another algorithm leaves an earlier DBSCAN radius behind
        clean = AnalysisConfig.from_dict(config).to_dict()
    except EngineError as exc:
        raise AnalysisError(exc.message, field=exc.field) from exc
    undeclared = [c for c in declared_columns(clean) if c not in columns]
    if undeclared:
        raise AnalysisError(f"Column {undeclared[0]!r} is not in dataset “{dataset.name}”.", field="roles")
    declared = roles_from_config(clean, columns)
    effective = {c: dataset.column_role(c, declared.get(c)) for c in columns}
    errors = behaviour_role_errors(effective, chosen) + behaviour_unit_errors(effective, chosen)
    if errors:
        raise AnalysisError.of(errors)
    return clean


# --- create / cancel / delete --------------------------------------------------------------------


def analysis_create(
    *,
    organization,
    dataset,
    roles: dict | None = None,
    behaviour: dict | None = None,
    settings: dict | None = None,
    config: dict | None = None,
    name: str = "",
    created_by=None,
    color_scheme: str = DEFAULT_COLOR_SCHEME,
    rerun_of: Analysis | None = None,
    version=None,
) -> Analysis:
    """Check the run's settings (`analysis_config`), store the analysis and queue its job (dispatched once the
    transaction commits). `version` (a `DatasetVersion` of the dataset, or its number) is the table the run
    reads; default the latest. Raises AnalysisError, with the field at fault, before anything is stored."""
    from datasets.versions import version_latest
    from jobs.services import job_create
    from segments.engine.config import declared_columns

    if dataset.organization_id != organization.pk:
        raise AnalysisError("This dataset belongs to another organization.", field="dataset")
    if dataset.status != "ready":
        raise AnalysisError(f"Dataset “{dataset.name}” is not ready yet (status: {dataset.status}).", field="dataset")
    if color_scheme not in COLOR_SCHEMES:
        raise AnalysisError(
            f"Unknown colour scheme {color_scheme!r}; choose one of {', '.join(COLOR_SCHEMES)}.", field="color_scheme"
        )
    if rerun_of is not None and rerun_of.organization_id != organization.pk:
        raise AnalysisError("Cannot re-run another organization's analysis.")
    clean = analysis_config(dataset=dataset, roles=roles, behaviour=behaviour, settings=settings, config=config)
    version = _version_of(dataset, version) if version is not None else version_latest(dataset)
    # An order log's run names the columns of the customer table built from the log, not the log's own columns.
    if version is not None and version.schema and not dataset.is_order_log:
        missing = [c for c in declared_columns(clean) if c not in version.column_names]
        if missing:
            raise AnalysisError(
                f"Column {missing[0]!r} is not in version {version.number} of dataset “{dataset.name}”.",
                field="version",
            )
    name = (name or "").strip()
    if not name or is_default_name(name, dataset):
        # An automatic name describes the run's own settings: one carried over from another run (a re-run with
        # changed settings) is replaced. A name a person typed is kept.
        name = default_name(dataset, clean)
    with transaction.atomic():
        analysis = Analysis.objects.for_organization(organization).create(
            dataset=dataset,
            name=name[:200],
            config=clean,
            color_scheme=color_scheme,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            rerun_of=rerun_of,
            dataset_version=version,
        )
        from segments.services.distributed import analysis_engine

        # which engine runs it and why (refused here, naming why, when neither can): kept with the job
        engine = analysis_engine(analysis)
        analysis.job = job_create(
            organization=organization,
            kind=JOB_KIND,
            params={"analysis_id": analysis.pk, "engine": {k: engine[k] for k in ("name", "reason")}},
            created_by=created_by,
        )
        analysis.save(update_fields=["job"])
    from accounts.services import audit

    audit(
        organization=organization,
        action="analysis.rerun" if rerun_of is not None else "analysis.started",
        actor=created_by,
        target=analysis.name,
        analysis_id=analysis.pk,
        dataset=dataset.name,
    )
    return analysis


def _version_of(dataset, version):
    from datasets.models import DatasetVersion

    number = getattr(version, "number", version)
    try:
        number = int(number)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{version!r} is not a version number.", field="version") from exc
    found = DatasetVersion.objects.for_organization(dataset.organization).filter(dataset=dataset, number=number).first()
    if found is None:
        raise AnalysisError(f"Dataset “{dataset.name}” has no version {number}.", field="version")
    return found


def analysis_rerun(*, analysis: Analysis, created_by=None) -> Analysis:
    """A new run with the same configuration (settings, roles, colours, name) on the dataset's latest version."""
    automatic = is_default_name(analysis.name, analysis.dataset)
    return analysis_create(
        organization=analysis.organization,
        dataset=analysis.dataset,
        config=analysis.config,
        name="" if automatic else analysis.name,
        created_by=created_by,
        color_scheme=analysis.color_scheme,
        rerun_of=analysis,
    )


_RERUN_SUFFIX = " (re-run)"
# Algorithm names in automatic analysis names before they were the vocabulary's labels (still recognised).
_OLD_ALGORITHM_NAMES = ("k-means", "agglomerative")


def default_name(dataset, config: dict) -> str:
    """The automatic name of a run: the dataset and the run's own settings."""
    from segments.engine.vocabulary import algorithm_label

    algorithm = config.get("algorithm", "kmeans")
    label = algorithm_label(algorithm)
    if algorithm in ("dbscan", "hdbscan"):
        return f"{dataset.name} · {label}"
    if config.get("n_clusters"):
        k = f"k={config['n_clusters']}"
    else:
        k = f"auto k ({config.get('k_min', 2)}–{config.get('k_max', 10)})"
    return f"{dataset.name} · {label} · {k}"


def is_default_name(name: str, dataset) -> bool:
    """Whether `name` is an automatic name (of any settings, with any number of " (re-run)" suffixes,
    older formats included) rather than one a person typed."""
    import re

    from segments.engine.vocabulary import ALGORITHMS

    algorithms = {*ALGORITHMS, *(a.label for a in ALGORITHMS.values()), *_OLD_ALGORITHM_NAMES}
    pattern = (
        rf"{re.escape(dataset.name)} · (?:{'|'.join(re.escape(a) for a in sorted(algorithms))})"
        r"(?: · (?:k=\d+|auto k(?: \(\d+–\d+\))?))?"
        rf"(?:{re.escape(_RERUN_SUFFIX)})*"
    )
    return re.fullmatch(pattern, (name or "").strip()) is not None


def analysis_cancel(*, analysis: Analysis, actor=None) -> Analysis:
    from jobs.services import job_cancel

    if analysis.job_id and analysis.job.is_active:
        job_cancel(analysis.job, actor=actor, target=analysis.name)
        analysis.job.refresh_from_db()
    return analysis


def analysis_delete(*, analysis: Analysis, actor=None) -> None:
    """Stop the run if it is still going, remove its files, rows and the record; audited."""
    from accounts.services import audit

    analysis_cancel(analysis=analysis, actor=actor)
    organization, name = analysis.organization, analysis.name
    remove_analysis_files(analysis)
    with transaction.atomic():
        job = analysis.job
        analysis.delete()
        if job is not None and not job.is_active:
            job.delete()
    audit(organization=organization, action="analysis.deleted", actor=actor, target=name)


def remove_analysis_files(analysis: Analysis) -> None:

    storage.delete_tree(analysis.storage_dir)
