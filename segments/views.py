"""Analysis pages: list, configure/re-run, the four result tabs, compare, cancel, delete.

Every object comes through `selectors.analysis_get` / `get_object_for_org` (404 for another
organization's id). Charts are built in `segments.charts` from stored, pre-aggregated data.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.context import org_required, require
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from segments import selectors
from segments.engine.vocabulary import (
    LTV_ACCURACY_UNKNOWN,
    STRUCTURE_LABELS,
    algorithm_label,
    ltv_fidelity,
    metrics_method_label,
)

TABS = [
    ("data", "Data & Analysis", "segments:detail"),
    ("profiles", "Segment Profiles", "segments:profiles"),
    ("visualizations", "Visualizations", "segments:visualizations"),
    ("insights", "Business Insights", "segments:insights"),
    ("changes", "Changes", "segments:changes"),
]

# Analyses of order logs (datasets of kind "transactions") have a fifth tab.
CLV_TAB = ("clv", "Lifetime value", "segments:lifetime_value")


def _dataset(request, dataset_id):
    from datasets.models import Dataset

    return get_object_for_org(Dataset, request.organization, pk=dataset_id)


@require_safe
@org_required(Perm.VIEW)
def analysis_list(request):
    from datasets.models import Dataset
    from segsaas.paging import page_of

    analyses = selectors.analysis_list(organization=request.organization).defer("metrics", "profiles", "summary")
    datasets = (
        Dataset.objects.for_organization(request.organization)
        .filter(status="ready")
        .order_by("-created_at")
        .only("pk", "name", "row_count")
    )
    return render(request, "segments/list.html", {"analyses": page_of(request, analyses), "datasets": datasets})


@require_safe
@org_required(Perm.RUN_ANALYSES)
def analysis_new_pick(request):
    dataset_id = request.GET.get("dataset")
    if dataset_id:
        return redirect("segments:new", dataset_id=_dataset(request, dataset_id).pk)
    return redirect("segments:list")


def _form_page(request, *, dataset, initial_config, color_scheme, rerun_of=None, initial_name=""):
    from segments.engine.errors import UserFacingError
    from segments.forms import AnalysisForm
    from segments.services import analysis_create

    version_error = None
    chosen_version = request.POST.get("version", "") if request.method == "POST" else ""
    if request.method == "POST":
        form = AnalysisForm(request.POST, dataset=dataset, initial_config=initial_config)
        if form.is_valid():
            try:
                analysis = analysis_create(
                    organization=request.organization,
                    dataset=dataset,
                    config=initial_config,
                    roles=form.roles(),
                    behaviour=form.behaviour(),
                    settings=form.settings(),
                    name=form.cleaned_data["name"],
                    created_by=request.user,
                    color_scheme=form.cleaned_data["color_scheme"],
                    rerun_of=rerun_of,
                    version=chosen_version or None,
                )
            except UserFacingError as exc:  # the settings' rules, or the jobs' memory guard
                if exc.field == "version":
                    version_error = exc.message
                else:
                    form.show_error(exc)
            else:
                messages.success(request, f"Analysis “{analysis.name}” queued.")
                return redirect("segments:detail", analysis_id=analysis.pk)
    else:
        form = AnalysisForm(
            dataset=dataset, initial_config=initial_config, initial={"color_scheme": color_scheme, "name": initial_name}
        )
    versions = dataset.versions.filter(status="ready").only("number", "row_count", "original_filename")
    return render(
        request,
        "segments/form.html",
        {
            "form": form,
            "dataset": dataset,
            "rerun_of": rerun_of,
            "versions": list(versions),
            "chosen_version": chosen_version,
            "version_error": version_error,
            "recurring_charge": _run_charge(dataset, initial_config),
        },
    )


def _run_charge(dataset, config: dict) -> dict | None:
    """The recurring charge a run with `config` values customers by: the declared one (the dataset's roles, or the
    re-run's settings), else the one found in the data, else None ({"column", "period", "stated", "evidence"})."""
    if dataset.is_order_log:
        return None
    if config.get("charge_col") and config.get("charge_period"):
        return {"column": config["charge_col"], "period": config["charge_period"], "stated": True, "evidence": ""}
    found = (dataset.profile or {}).get("recurring_charge")
    if found:
        return {**found, "stated": False}
    return None


@org_required(Perm.RUN_ANALYSES)
def analysis_new(request, dataset_id: int):
    from segments.models import DEFAULT_COLOR_SCHEME
    from segments.services import analysis_default_config

    dataset = _dataset(request, dataset_id)
    if dataset.status != "ready":
        messages.error(request, f"Dataset “{dataset.name}” is not ready yet.")
        return redirect("segments:list")
    return _form_page(
        request, dataset=dataset, initial_config=analysis_default_config(dataset), color_scheme=DEFAULT_COLOR_SCHEME
    )


@org_required(Perm.RUN_ANALYSES)
def analysis_rerun(request, analysis_id: int):
    from segments.services import is_default_name

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    # A typed name is carried over; an automatic one is not (the new run gets one from its own settings).
    automatic = is_default_name(analysis.name, analysis.dataset)
    return _form_page(
        request,
        dataset=analysis.dataset,
        initial_config=analysis.config,
        color_scheme=analysis.color_scheme,
        rerun_of=analysis,
        initial_name="" if automatic else f"{analysis.name} (re-run)",
    )


@org_required(Perm.RUN_ANALYSES)
@require_POST
def analysis_rerun_latest(request, analysis_id: int):
    """The same configuration on the dataset's latest version (the API's `POST .../rerun/`)."""
    from segments.services import AnalysisError, analysis_rerun

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    try:
        new = analysis_rerun(analysis=analysis, created_by=request.user)
    except AnalysisError as exc:
        messages.error(request, exc.message)
        return redirect("segments:detail", analysis_id=analysis.pk)
    version = new.dataset_version.number if new.dataset_version_id else None
    messages.success(request, f"Re-run queued on version {version} of “{analysis.dataset.name}”.")
    return redirect("segments:detail", analysis_id=new.pk)


def _tab_context(request, analysis, tab: str) -> dict:
    siblings = (
        selectors.analysis_list(organization=request.organization, dataset=analysis.dataset)
        .exclude(pk=analysis.pk)
        .filter(job__status="succeeded")
    )
    tabs = TABS + ([CLV_TAB] if analysis.dataset.is_order_log else [])
    return {
        "analysis": analysis,
        "job": analysis.job,
        "tab": tab,
        "tabs": [(key, label, reverse(url, kwargs={"analysis_id": analysis.pk})) for key, label, url in tabs],
        "profiles": _colored(analysis),
        "population": ((analysis.metrics or {}).get("insights") or {}).get("population") or {},
        "siblings": siblings[:50],
    }


def _colored(analysis) -> list[dict]:
    from segments.charts import segment_colors

    profiles = selectors.analysis_profiles(analysis=analysis)
    colors = segment_colors(profiles, analysis.color_scheme)
    money = _money_columns(analysis)
    return [dict(p, color=colors[p["segment"]], **_formatted_stats(p, money)) for p in profiles]


def _advice_today(row):
    """The customer's advice quoting money in the organization's currency of today (`segments.advice`)."""
    from segments.advice import advice_in_currency

    row.recommendation_reason = advice_in_currency(row.recommendation_reason)
    return row


def _money_columns(analysis) -> set[str]:
    roles = analysis.metrics.get("roles") or {}
    return {c for c, r in roles.items() if r == "monetary"} | set(analysis.config.get("monetary_cols") or [])


def _formatted_stats(profile: dict, money: set[str]) -> dict:
    """Each feature's numbers formatted for its kind: money with a currency sign, a year column's mean as a year."""
    from segments.engine.formatting import feature_kind
    from segments.engine.formatting import format_value as format_number
    from segments.engine.traits import money_trait_text

    features = []
    for d in profile.get("distinguishing_features") or []:
        kind = feature_kind(d.get("feature"), money)
        if kind == "money" and d.get("text"):
            d = dict(d, text=money_trait_text(d))  # in the organization's currency of today
        features.append(
            dict(
                d,
                segment_text=format_number(d.get("segment_mean"), kind),
                population_text=format_number(d.get("population_mean"), kind),
            )
        )
    stats = []
    for feature, values in (profile.get("stats") or {}).items():
        kind = feature_kind(feature, money)
        values = values or {}
        stats.append((feature, format_number(values.get("mean"), kind), format_number(values.get("median"), kind)))
    return {"distinguishing_features": features, "stats_rows": stats}


def _figures(analysis, tab):
    from segments.charts import tab_figures

    return tab_figures(analysis, tab) if analysis.is_ready else {}


@require_safe
@org_required(Perm.VIEW)
def analysis_detail(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "data")
    ctx["figures"] = _figures(analysis, "data")
    ctx["config_rows"] = _config_rows(analysis)
    ctx["timings"] = _timings(analysis.metrics.get("timings") or {})
    ctx["churn_method"] = metrics_method_label("churn", analysis.metrics.get("churn"))
    ctx["ltv_method"] = metrics_method_label("ltv", analysis.metrics.get("ltv"))
    ctx["ltv_fidelity"] = ltv_fidelity(analysis.metrics.get("ltv"))
    ctx["ltv_accuracy"] = LTV_ACCURACY_UNKNOWN
    structure = analysis.metrics.get("segment_structure") or {}
    ctx["structure"] = structure
    ctx["structure_label"] = STRUCTURE_LABELS.get(structure.get("strength"), "")
    return render(request, "segments/tab_data.html", ctx)


# Stage timings the run adds to the engine's (the engine's own keys are already labels).
TIMING_LABELS = {"store_customers_seconds": "Storing customer results", "total": "Total (engine)"}


# The order the stages run in (PostgreSQL's jsonb does not keep a JSON object's key order).
STAGE_ORDER = [
    "Preprocessing",
    "Choosing k and clustering",
    "PCA",
    "Feature importance",
    "Churn model",
    "LTV model",
    "Profiles",
    "Recommendations",
    "store_customers_seconds",
    "total",
]


def _timings(timings: dict) -> list[tuple[str, float]]:
    rank = {key: i for i, key in enumerate(STAGE_ORDER)}
    later = rank["store_customers_seconds"]  # stages this list does not know run before the results are stored
    rows = []
    for key, seconds in sorted(timings.items(), key=lambda kv: rank.get(kv[0], later - 0.5)):
        label = TIMING_LABELS.get(key) or key.removesuffix("_seconds").replace("_", " ")
        rows.append((label[:1].upper() + label[1:], seconds))
    return rows


def _config_rows(analysis) -> list[tuple[str, str]]:
    """The settings the run used, in the labels of the analysis form. Column lists are the roles the engine
    actually applied (declared ones plus those it inferred), when the run recorded them."""
    from segments.engine.config import BEHAVIOUR_KEYS
    from segments.engine.units import UNIT_KEYS, UNIT_LABELS
    from segments.forms import CONFIG_LABELS
    from segments.models import COLOR_SCHEMES

    c = analysis.config
    used = analysis.metrics.get("roles") or {}  # a JSON object: in the dataset's column order only on SQLite
    schema = [col.get("name") for col in analysis.dataset.schema or [] if isinstance(col, dict)]
    order = [col for col in schema if col in used] + sorted(col for col in used if col not in schema)
    behaviour = analysis.metrics.get("behaviour_roles") or {}
    rows = [
        ("Algorithm", algorithm_label(c.get("algorithm"))),
        ("Number of segments", analysis.k_label),
        ("Text analysis (NLP)", "on" if c.get("nlp") else "off"),
        ("Colour scheme", COLOR_SCHEMES.get(analysis.color_scheme, analysis.color_scheme)),
    ]

    def single(key, role):
        declared = c.get(key)
        found = declared or next((col for col in order if used[col] == role), None)
        if not found:
            return "none"
        return found if declared or not used else f"{found} (detected)"

    rows.append((CONFIG_LABELS["id_col"], single("id_col", "identifier")))
    rows.append((CONFIG_LABELS["churn_label_col"], single("churn_label_col", "churn_label")))
    units = analysis.metrics.get("behaviour_units") or {}
    for key in BEHAVIOUR_KEYS:
        declared, found = c.get(key), behaviour.get(key)
        value = declared or found
        text = "none" if not value else value if declared else f"{value} (detected)"
        unit = units.get(UNIT_KEYS.get(key, ""))
        if value and unit:  # the unit the run read it in, and why: every duration figure depends on it
            label = UNIT_LABELS.get(unit.get("unit"), unit.get("unit")).lower()
            text += f" — unit: {label} ({unit.get('evidence')})"
        rows.append((CONFIG_LABELS[key], text))
    charge = units.get("recurring_charge")
    if charge:
        rows.append(("Recurring charge", f"{charge['column']} per {charge['period'][:-1]} ({charge['evidence']})"))
    for key, role in (
        ("monetary_cols", "monetary"),
        ("numeric_cols", "numeric"),
        ("categorical_cols", "categorical"),
        ("date_cols", "date"),
        ("text_cols", "text"),
        ("ignore_cols", "ignore"),
    ):
        columns = [col for col in order if used.get(col) == role] if used else list(c.get(key) or [])
        rows.append((CONFIG_LABELS[key], ", ".join(columns) or "none"))
    horizon = f"{c.get('ltv_horizon_months', 12)} months"
    if analysis.is_ready and not analysis.has_ltv:  # the setting changed nothing: say so rather than quote it
        horizon = "not used: this run has no predicted LTV"
    rows.append(("LTV horizon", horizon))
    rows.append(("Random seed", str(c.get("random_state", 42))))
    return rows


def _positive_int(raw, default: int) -> int:
    return int(raw) if raw and str(raw).isdigit() and int(raw) > 0 else default


def _sort_links(query, current: str) -> dict[str, str]:
    """Per sortable column, the query that sorts by it (from the highest first; again to turn it round)."""
    from segments.filters import CLV_SORTS

    links = {}
    for param in ("churn_risk", "ltv", "segment", "customer_id", *CLV_SORTS):
        wanted = param if current == f"-{param}" else f"-{param}"
        q = query.copy()
        q["sort"] = wanted
        links[param] = q.urlencode()
    return links


def _checked_filter(filterset, analysis) -> dict | None:
    """The filter's values as the API and the export check them (`check_for`: what this analysis has no figure for
    is refused too), or None with every message beside its field."""
    from segments.filters import CLV_PARAMETERS, LTV_PARAMETERS, FilterError

    hidden = LTV_PARAMETERS if analysis.has_clv else CLV_PARAMETERS  # parameters this page has no input for
    try:
        return filterset.check_for(analysis)
    except FilterError as exc:
        if filterset.is_valid():  # refused for this analysis: the form does not know it yet
            for field, messages in exc.details.items():
                for message in messages:
                    if field in filterset.form.fields and field not in hidden:
                        filterset.form.add_error(field, message)
                    else:
                        filterset.form.add_error(None, f"{field}: {message}")
        return None


def _sort_choices(filterset, analysis) -> list:
    """The sort menu: only what this analysis has (CLV sorts for an order log's lifetime value, which replaces the
    predicted LTV; no LTV sort without a money column)."""
    from segments.filters import CLV_SORTS

    def offered(value: str) -> bool:
        param = value.lstrip("-")
        if param in CLV_SORTS:
            return analysis.has_clv
        if param == "ltv":
            return analysis.has_ltv and not analysis.has_clv
        return True

    return [(value, label) for value, label in filterset.filters["sort"].extra["choices"] if offered(value)]


@require_safe
@org_required(Perm.VIEW)
def analysis_profiles_view(request, analysis_id: int):
    from segments.filters import CustomerFilterSet

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "profiles")
    if analysis.is_ready:
        # The one customer filter, with churn risk in percent as the page's inputs say; a bad value is shown beside
        # its field and lists nothing rather than being dropped.
        filterset = CustomerFilterSet(request.GET, percent=True)
        ctx.update(
            {
                "filterset": filterset,
                "filters": request.GET,
                "page_sizes": selectors.PAGE_SIZES,
                "page_size": _positive_int(request.GET.get("size"), 50),
                "sort": request.GET.get("sort") or "row",
                "sort_choices": _sort_choices(filterset, analysis),
                "ltv_filters": analysis.has_ltv,
            }
        )
        values = _checked_filter(filterset, analysis)
        if values is not None:
            page = selectors.customer_page(
                analysis=analysis,
                page=_positive_int(request.GET.get("page"), 1),
                size=_positive_int(request.GET.get("size"), 50),
                **values,
            )
            names = {p["segment"]: p["name"] for p in analysis.profiles}
            query = request.GET.copy()
            query.pop("page", None)
            # The same list as a CSV download (in the table's order; churn risk as a fraction, as the API takes it).
            export_query = {
                "format": "csv",
                **{k: repr(v) if isinstance(v, float) else v for k, v in values.items() if k != "sort"},
            }
            sort = (values.get("sort") or ["row"])[0]
            ctx.update(
                {
                    "list_export_query": urlencode(export_query),
                    "list_is_filtered": bool(set(values) - {"sort"}),
                    "page": page,
                    "page_size": page.size,
                    "sort": sort,
                    "sort_links": _sort_links(query, sort),
                    "rows": [(_advice_today(r), names.get(r.segment, r.segment)) for r in page.rows],
                    "has_engagement": bool(
                        ((analysis.metrics.get("insights") or {}).get("population") or {}).get("engagement_columns")
                    ),
                    "base_query": query.urlencode(),
                    "selected_segment": values.get("segment"),
                }
            )
    return render(request, "segments/tab_profiles.html", ctx)


@require_safe
@org_required(Perm.VIEW)
def analysis_visualizations(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "visualizations")
    figures = _figures(analysis, "visualizations")
    ctx["figures"] = figures
    ctx["radars"] = [(k, v) for k, v in figures.items() if k.startswith("radar-")]
    return render(request, "segments/tab_visualizations.html", ctx)


@require_safe
@org_required(Perm.VIEW)
def analysis_insights(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "insights")
    ctx["figures"] = _figures(analysis, "insights")
    insights = analysis.metrics.get("insights") or {}
    ctx["growth"] = insights.get("growth_opportunities") or []
    ctx["underperforming"] = insights.get("underperforming") or []
    return render(request, "segments/tab_insights.html", ctx)


@require_safe
@org_required(Perm.VIEW)
def analysis_lifetime_value(request, analysis_id: int):
    """Order-log analyses: the lifetime-value models' holdout evidence, in charts and plain words, and the CLV."""
    from segments.charts.clv import chosen_scores, horizon_label
    from segments.services.lifetime import accuracy_words

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    if not analysis.dataset.is_order_log:
        raise Http404("Only analyses of an order log have a lifetime value tab")
    ctx = _tab_context(request, analysis, "clv")
    clv = analysis.clv
    ctx["clv"] = clv
    ctx["clv_summary"] = (analysis.summary or {}).get("clv") or {}
    ctx["figures"] = _figures(analysis, "clv") if analysis.has_clv else {}
    ctx["chosen"] = chosen_scores(clv) if clv else None
    ctx["horizon"] = horizon_label(clv) if clv else ""
    ctx["model_rows"] = _clv_model_rows(clv)
    ctx["accuracy"] = accuracy_words(clv)
    return render(request, "segments/tab_clv.html", ctx)


def _clv_model_rows(clv: dict) -> list[dict]:
    """One row per purchase model tried on the holdout, in the order they were tried."""
    holdout = clv.get("holdout") or {}
    chosen = holdout.get("chosen")
    rows = []
    for name, s in (holdout.get("models") or {}).items():
        ranges = s.get("ranges") or {}
        rows.append(
            {
                "name": name,
                "label": s.get("label", name),
                "chosen": name == chosen,
                "error": s.get("error"),
                "mae": s.get("mae"),
                "relative_mae": s.get("relative_mae"),
                "purchases_error": _signed_percent(s.get("purchases_error")),
                "spend_error": _signed_percent(s.get("spend_error")),
                "coverage": ranges.get("coverage"),
                "direction_ok": (s.get("direction_check") or {}).get("ok"),
            }
        )
    return rows


def _signed_percent(x) -> str:
    from segments.engine.formatting import MISSING

    return MISSING if x is None else f"{x:+.1%}"


@require_safe
@org_required(Perm.VIEW)
def analysis_compare(request, analysis_id: int):
    from segments.charts import RUN_COLORS, compare_figures, to_json

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    siblings = list(
        selectors.analysis_list(organization=request.organization, dataset=analysis.dataset)
        .exclude(pk=analysis.pk)
        .filter(job__status="succeeded")
    )
    other = None
    other_id = request.GET.get("other", "")
    if other_id:
        if not other_id.isdigit():
            raise Http404("No such analysis")
        other = selectors.analysis_get(organization=request.organization, analysis_id=int(other_id))
        if other.dataset_id != analysis.dataset_id:
            raise Http404("Only runs on the same dataset can be compared")
    elif siblings:
        other = siblings[0]
    ctx = {
        "analysis": analysis,
        "other": other,
        "siblings": siblings,
        "figures": {},
        "rows": [],
        "run_colors": RUN_COLORS,
    }
    if other is not None and analysis.is_ready and other.is_ready:
        overlap = selectors.analysis_overlap(a=analysis, b=other)
        ctx["overlap"] = overlap
        ctx["figures"] = {name: to_json(fig) for name, fig in compare_figures(analysis, other, overlap)}
        ctx["rows"] = _compare_rows(analysis, other)
    return render(request, "segments/compare.html", ctx)


def _compare_rows(a, b) -> list[tuple[str, str, str]]:
    def q(run, key):
        v = (run.metrics.get("quality") or {}).get(key)
        return "—" if v is None else f"{v:.3f}"

    return [
        ("Algorithm", algorithm_label(a.algorithm), algorithm_label(b.algorithm)),
        ("Segments", str(a.n_segments), str(b.n_segments)),
        ("k setting", a.k_label, b.k_label),
        ("Silhouette", q(a, "silhouette"), q(b, "silhouette")),
        ("Davies–Bouldin (lower is better)", q(a, "davies_bouldin"), q(b, "davies_bouldin")),
        ("Calinski–Harabasz", q(a, "calinski_harabasz"), q(b, "calinski_harabasz")),
        ("Stability (ARI)", q(a, "stability_ari"), q(b, "stability_ari")),
        (
            "Churn method",
            metrics_method_label("churn", a.metrics.get("churn")),
            metrics_method_label("churn", b.metrics.get("churn")),
        ),
        ("Segment structure", _structure(a), _structure(b)),
        ("LTV model", ltv_fidelity(a.metrics.get("ltv")), ltv_fidelity(b.metrics.get("ltv"))),
        ("NLP", "on" if a.config.get("nlp") else "off", "on" if b.config.get("nlp") else "off"),
    ]


def _structure(analysis) -> str:
    return STRUCTURE_LABELS.get((analysis.metrics.get("segment_structure") or {}).get("strength"), "—")


def _other_run(request, analysis, param="from"):
    raw = request.GET.get(param, "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such analysis")
    return selectors.analysis_get(organization=request.organization, analysis_id=int(raw))


@org_required(Perm.VIEW)
@require_GET
def analysis_changes(request, analysis_id: int):
    """Who moved where between an earlier run of the same dataset and this one: counts, a Sankey chart, the
    movers of each cell as CSV."""
    from segments.charts import to_json
    from segments.charts.changes import migration_sankey_figure
    from segments.services.timeline import MigrationError, migration, migration_default_before

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "changes")
    before = _other_run(request, analysis) or (migration_default_before(analysis) if analysis.is_ready else None)
    ctx.update({"before": before, "figures": {}, "error": None, "moves": None})
    if before is not None and analysis.is_ready:
        try:
            moves = migration(after=analysis, before=before)
        except MigrationError as exc:
            ctx["error"] = exc.message
        else:
            ctx["moves"] = moves
            ctx["figures"] = {"sankey": to_json(migration_sankey_figure(moves))}
            ctx["matrix"] = _matrix_rows(moves)
            ctx["moved"] = sum(c["customers"] for c in moves.cells if c["from_segment"] != c["to_segment"])
    from monitoring.models import AnalysisSchedule, Frequency

    ctx["schedule"] = AnalysisSchedule.objects.for_organization(request.organization).filter(analysis=analysis).first()
    ctx["frequencies"] = Frequency.choices
    ctx["continuity"] = (analysis.summary or {}).get("continuity")
    if ctx["continuity"]:
        ctx["vanished"] = [
            {"segment": s, "name": (before.profile(s) or {}).get("name", f"Segment {s}") if before else f"Segment {s}"}
            for s in ctx["continuity"].get("vanished", [])
        ]
    return render(request, "segments/tab_changes.html", ctx)


def _matrix_rows(moves) -> dict:
    from segments.charts.palette import segment_color

    before_segments = sorted(p["segment"] for p in moves.before.profiles)
    after_segments = sorted(p["segment"] for p in moves.after.profiles)
    counts = {(c["from_segment"], c["to_segment"]): c["customers"] for c in moves.cells}
    return {
        "columns": [
            {"segment": s, "name": moves.after.profile(s)["name"], "color": segment_color(s, moves.after.color_scheme)}
            for s in after_segments
        ],
        "rows": [
            {
                "segment": f,
                "name": moves.before.profile(f)["name"],
                "color": segment_color(f, moves.before.color_scheme),
                "cells": [{"to": t, "customers": counts.get((f, t), 0), "stayed": f == t} for t in after_segments],
            }
            for f in before_segments
        ],
    }


@org_required(Perm.EXPORT)
@require_GET
def analysis_movers_csv(request, analysis_id: int):
    from segments.services.timeline import migration_movers_csv

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    before = _other_run(request, analysis)
    try:
        from_segment, to_segment = int(request.GET["from_segment"]), int(request.GET["to_segment"])
    except (KeyError, ValueError) as exc:
        raise Http404("Name the cell: from, from_segment and to_segment") from exc
    if before is None:
        raise Http404("Name the earlier run: from")
    from segments.services.timeline import MigrationError

    try:
        download = migration_movers_csv(after=analysis, before=before, from_segment=from_segment, to_segment=to_segment)
    except MigrationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("segments:changes", kwargs={"analysis_id": analysis.pk}))
    return download.as_response()


@org_required(Perm.VIEW)
@require_POST
def analysis_delete_view(request, analysis_id: int):
    from segments.services import analysis_delete

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    require(request, Perm.RUN_ANALYSES)
    name = analysis.name
    analysis_delete(analysis=analysis, actor=request.user)
    messages.success(request, f"Analysis “{name}” deleted.")
    return redirect("segments:list")
