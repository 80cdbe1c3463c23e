"""A job's progress as JSON (the pages' live progress widget polls it) and the cancel button's endpoint."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from accounts.context import org_required, require
from accounts.permissions import Perm, job_permission
from accounts.scoping import get_object_for_org
from jobs.models import Job
from jobs.serializers import job_progress
from jobs.services import job_cancel


@require_safe
@org_required(Perm.VIEW)
def job_status(request, job_id: int):
    job = get_object_for_org(Job, request.organization, pk=job_id)
    return JsonResponse(job_progress(job))


@org_required(Perm.VIEW)
@require_POST
def job_cancel_view(request, job_id: int):
    job = get_object_for_org(Job, request.organization, pk=job_id)
    require(request, job_permission(job.kind))
    job = job_cancel(job, actor=request.user)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(job_progress(job))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)
