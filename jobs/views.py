from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.context import org_required
from accounts.permissions import Perm
from accounts.scoping import get_object_for_org
from jobs.models import Job
from jobs.services import job_cancel

# Who may cancel which kind of job: the permission that started it.
_CANCEL_PERM = {"analysis": Perm.RUN_ANALYSES, "export": Perm.EXPORT}


@org_required(Perm.VIEW)
def job_status(request, job_id: int):
    job = get_object_for_org(Job, request.organization, pk=job_id)
    return JsonResponse(job.as_dict())


@org_required(Perm.VIEW)
@require_POST
def job_cancel_view(request, job_id: int):
    from accounts.context import require

    job = get_object_for_org(Job, request.organization, pk=job_id)
    require(request, _CANCEL_PERM.get(job.kind.split(".")[0], Perm.MANAGE_DATASETS))
    job = job_cancel(job)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(job.as_dict())
    return redirect(request.POST.get("next") or "home")
