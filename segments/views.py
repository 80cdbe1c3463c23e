"""Analysis pages: list, configure/re-run, the four result tabs, compare, cancel, delete.

Every object comes through `selectors.analysis_get` / `get_object_for_org` (404 for another
organization's id). Charts are built in `segments.charts` from stored, pre-aggregated data.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.context import org_required, require
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from segments import selectors

TABS = [
    ("data", "Data & Analysis", "segments:detail"),
    ("profiles", "Segment Profiles", "segments:profiles"),
    ("visualizations", "Visualizations", "segments:visualizations"),
    ("insights", "Business Insights", "segments:insights"),
]


def _dataset(request, dataset_id):
    from datasets.models import Dataset

    return get_object_for_org(Dataset, request.organization, pk=dataset_id)


@org_required(Perm.VIEW)
def analysis_list(request):
    from datasets.models import Dataset

    analyses = selectors.analysis_list(organization=request.organization)
    datasets = Dataset.objects.for_organization(request.organization).filter(status="ready").order_by("-created_at")
    return render(request, "segments/list.html", {"analyses": analyses[:200], "datasets": datasets})


@org_required(Perm.RUN_ANALYSES)
def analysis_new_pick(request):
    dataset_id = request.GET.get("dataset")
    if dataset_id:
        return redirect("segments:new", dataset_id=_dataset(request, dataset_id).pk)
    return redirect("segments:list")


def _form_page(request, *, dataset, initial_config, color_scheme, rerun_of=None, initial_name=""):
    from segments.forms import AnalysisForm
    from segments.services import analysis_create

    if request.method == "POST":
        form = AnalysisForm(request.POST, dataset=dataset, initial_config=initial_config)
        if form.is_valid():
            try:
                analysis = analysis_create(
                    organization=request.organization,
                    dataset=dataset,
                    config=form.config(),
                    name=form.cleaned_data["name"],
                    created_by=request.user,
                    color_scheme=form.cleaned_data["color_scheme"],
                    rerun_of=rerun_of,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Analysis “{analysis.name}” queued.")
                return redirect("segments:detail", analysis_id=analysis.pk)
    else:
        form = AnalysisForm(
            dataset=dataset, initial_config=initial_config, initial={"color_scheme": color_scheme, "name": initial_name}
        )
    return render(request, "segments/form.html", {"form": form, "dataset": dataset, "rerun_of": rerun_of})


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
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    return _form_page(
        request,
        dataset=analysis.dataset,
        initial_config=analysis.config,
        color_scheme=analysis.color_scheme,
        rerun_of=analysis,
        initial_name=f"{analysis.name} (re-run)",
    )


def _tab_context(request, analysis, tab: str) -> dict:
    siblings = (
        selectors.analysis_list(organization=request.organization, dataset=analysis.dataset)
        .exclude(pk=analysis.pk)
        .filter(job__status="succeeded")
    )
    return {
        "analysis": analysis,
        "job": analysis.job,
        "tab": tab,
        "tabs": [(key, label, reverse(url, kwargs={"analysis_id": analysis.pk})) for key, label, url in TABS],
        "profiles": _colored(analysis),
        "siblings": siblings[:50],
    }


def _colored(analysis) -> list[dict]:
    from segments.charts import segment_colors

    profiles = selectors.analysis_profiles(analysis=analysis)
    colors = segment_colors(profiles, analysis.color_scheme)
    return [dict(p, color=colors[p["segment"]]) for p in profiles]


def _figures(analysis, tab):
    from segments.charts import tab_figures

    return tab_figures(analysis, tab) if analysis.is_ready else {}


@org_required(Perm.VIEW)
def analysis_detail(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "data")
    ctx["figures"] = _figures(analysis, "data")
    ctx["config_rows"] = _config_rows(analysis)
    return render(request, "segments/tab_data.html", ctx)


def _config_rows(analysis) -> list[tuple[str, str]]:
    c = analysis.config
    rows = [
        ("Algorithm", dict(_algorithms()).get(c.get("algorithm"), c.get("algorithm"))),
        ("Number of segments", analysis.k_label),
        ("Text analysis (NLP)", "on" if c.get("nlp") else "off"),
        ("Colour scheme", analysis.color_scheme),
    ]
    for key, label in (
        ("id_col", "Customer id"),
        ("churn_label_col", "Churn label"),
        ("recency_col", "Recency"),
        ("frequency_col", "Frequency"),
        ("tenure_col", "Tenure"),
    ):
        rows.append((label, c.get(key) or "inferred / none"))
    for key, label in (
        ("monetary_cols", "Monetary"),
        ("categorical_cols", "Categorical"),
        ("date_cols", "Dates"),
        ("text_cols", "Text"),
        ("numeric_cols", "Numeric"),
        ("ignore_cols", "Ignored"),
    ):
        rows.append((label, ", ".join(c.get(key) or []) or "inferred"))
    rows.append(("LTV horizon", f"{c.get('ltv_horizon_months', 12)} months"))
    rows.append(("Random seed", str(c.get("random_state", 42))))
    return rows


def _algorithms():
    from segments.forms import ALGORITHMS

    return ALGORITHMS


def _float(request, name):
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


@org_required(Perm.VIEW)
def analysis_profiles_view(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "profiles")
    if analysis.is_ready:
        segment = request.GET.get("segment", "")
        churn_min, churn_max = _float(request, "churn_min"), _float(request, "churn_max")
        filters = {
            "segment": int(segment) if segment.lstrip("-").isdigit() else None,
            "churn_min": None if churn_min is None else churn_min / 100,
            "churn_max": None if churn_max is None else churn_max / 100,
            "ltv_min": _float(request, "ltv_min"),
            "ltv_max": _float(request, "ltv_max"),
            "customer_id": (request.GET.get("q") or "").strip() or None,
        }
        after = request.GET.get("after", "")
        page = selectors.customer_page(
            analysis=analysis, after=int(after) if after.isdigit() else None, limit=50, **filters
        )
        names = {p["segment"]: p["name"] for p in analysis.profiles}
        query = request.GET.copy()
        query.pop("after", None)
        ctx.update(
            {
                "page": page,
                "rows": [(r, names.get(r.segment, r.segment)) for r in page.rows],
                "filters": request.GET,
                "base_query": query.urlencode(),
                "selected_segment": filters["segment"],
            }
        )
    return render(request, "segments/tab_profiles.html", ctx)


@org_required(Perm.VIEW)
def analysis_visualizations(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "visualizations")
    figures = _figures(analysis, "visualizations")
    ctx["figures"] = figures
    ctx["radars"] = [(k, v) for k, v in figures.items() if k.startswith("radar-")]
    return render(request, "segments/tab_visualizations.html", ctx)


@org_required(Perm.VIEW)
def analysis_insights(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    ctx = _tab_context(request, analysis, "insights")
    ctx["figures"] = _figures(analysis, "insights")
    insights = analysis.metrics.get("insights") or {}
    ctx["growth"] = insights.get("growth_opportunities") or []
    ctx["underperforming"] = insights.get("underperforming") or []
    return render(request, "segments/tab_insights.html", ctx)


@org_required(Perm.VIEW)
def analysis_compare(request, analysis_id: int):
    from segments.charts import compare_figures, to_json

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
    ctx = {"analysis": analysis, "other": other, "siblings": siblings, "figures": {}, "rows": []}
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

    def m(run, group, key, fmt):
        v = (run.metrics.get(group) or {}).get(key)
        return "—" if v is None else fmt.format(v)

    return [
        ("Algorithm", a.algorithm, b.algorithm),
        ("Segments", str(a.n_segments), str(b.n_segments)),
        ("k setting", a.k_label, b.k_label),
        ("Silhouette", q(a, "silhouette"), q(b, "silhouette")),
        ("Davies–Bouldin (lower is better)", q(a, "davies_bouldin"), q(b, "davies_bouldin")),
        ("Calinski–Harabasz", q(a, "calinski_harabasz"), q(b, "calinski_harabasz")),
        ("Stability (ARI)", q(a, "stability_ari"), q(b, "stability_ari")),
        ("Churn method", m(a, "churn", "method", "{}"), m(b, "churn", "method", "{}")),
        ("LTV R² (held out)", m(a, "ltv", "r2", "{:.3f}"), m(b, "ltv", "r2", "{:.3f}")),
        ("NLP", "on" if a.config.get("nlp") else "off", "on" if b.config.get("nlp") else "off"),
    ]


@org_required(Perm.VIEW)
@require_POST
def analysis_cancel_view(request, analysis_id: int):
    from segments.services import analysis_cancel

    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    require(request, Perm.RUN_ANALYSES)
    analysis_cancel(analysis=analysis)
    messages.info(request, "Cancellation requested.")
    return redirect("segments:detail", analysis_id=analysis.pk)


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
