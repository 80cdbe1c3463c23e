"""Monitoring pages: drift alerts and reports, every schedule, webhook endpoints and their delivery log, the alert
e-mail subscription; the schedule form of an analysis. Thin: load through the fence, check, call a service."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.context import actor_can, org_required, require
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from monitoring import services
from monitoring.forms import EndpointForm, ScheduleForm
from monitoring.models import AnalysisSchedule, DriftReport, WebhookDelivery, WebhookEndpoint
from segments import selectors


@org_required(Perm.VIEW)
@require_GET
def monitoring_page(request):
    return _render(request)


def _render(request, endpoint_form=None, endpoint_error=None, status=200):
    from segments.engine.drift import small_table_rule

    org = request.organization
    can_hooks = actor_can(request, Perm.MANAGE_WEBHOOKS)
    ctx = {
        "reports": DriftReport.objects.for_organization(org)
        .select_related("dataset", "version", "previous_version", "analysis", "previous_analysis")
        .order_by("-created_at")[:30],
        "schedules": AnalysisSchedule.objects.for_organization(org)
        .select_related("analysis", "analysis__dataset", "last_analysis")
        .order_by("next_run_at"),
        "subscribed": services.is_subscribed(organization=org, user=request.user),
        "can_hooks": can_hooks,
        "small_table_rule": small_table_rule(),
    }
    if can_hooks:
        ctx["endpoints"] = WebhookEndpoint.objects.for_organization(org)
        ctx["deliveries"] = WebhookDelivery.objects.for_organization(org).select_related("endpoint")[:50]
        ctx["endpoint_form"] = endpoint_form or EndpointForm()
        ctx["endpoint_error"] = endpoint_error
    return render(request, "monitoring/index.html", ctx, status=status)


@org_required(Perm.VIEW)
@require_POST
def subscription(request):
    on = request.POST.get("subscribed") == "1"
    services.subscription_set(organization=request.organization, user=request.user, subscribed=on)
    messages.success(request, "You will get drift alerts by e-mail." if on else "No more drift alert e-mails.")
    return redirect("monitoring:index")


@org_required(Perm.MANAGE_WEBHOOKS)
@require_POST
def endpoint_create(request):
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render(request, endpoint_form=form, endpoint_error="Check the URL and the events.", status=400)
    try:
        endpoint = services.endpoint_create(
            organization=request.organization,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            actor=request.user,
        )
    except services.WebhookError as exc:
        return _render(request, endpoint_form=form, endpoint_error=exc.message, status=400)
    messages.success(
        request,
        f"Endpoint added. Its signing secret (shown only now): {endpoint.secret}",
    )
    return redirect(reverse("monitoring:index") + "#webhooks")


@org_required(Perm.MANAGE_WEBHOOKS)
@require_POST
def endpoint_delete(request, endpoint_id: int):
    endpoint = get_object_for_org(WebhookEndpoint, request.organization, pk=endpoint_id)
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Endpoint {endpoint.url} removed.")
    return redirect(reverse("monitoring:index") + "#webhooks")


@org_required(Perm.VIEW)
@require_POST
def schedule_save(request, analysis_id: int):
    analysis = selectors.analysis_get(organization=request.organization, analysis_id=analysis_id)
    require(request, Perm.RUN_ANALYSES)
    back = reverse("segments:changes", kwargs={"analysis_id": analysis.pk}) + "#schedule"
    if request.POST.get("delete"):
        schedule = AnalysisSchedule.objects.for_organization(request.organization).filter(analysis=analysis).first()
        if schedule is not None:
            services.schedule_delete(schedule=schedule, actor=request.user)
            messages.success(request, "Schedule removed.")
        return redirect(back)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how often to re-run.")
        return redirect(back)
    schedule = services.schedule_save(
        analysis=analysis,
        frequency=form.cleaned_data["frequency"],
        enabled=form.cleaned_data["enabled"],
        actor=request.user,
    )
    messages.success(request, f"Schedule saved: {schedule.get_frequency_display().lower()}.")
    return redirect(back)
