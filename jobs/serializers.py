"""The one shape of a background job's progress: the API's `progress` objects, the pages' live progress widget
(`/jobs/<id>/`) and an export's 202 body all use `job_progress()`, described for the schema by
`JobProgressSerializer`."""

from __future__ import annotations

from rest_framework import serializers

JOB_STATES = ["draft", "queued", "running", "succeeded", "failed", "cancelled"]


class JobProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="The job's id (null for a draft without a job).")
    kind = serializers.CharField(allow_blank=True, help_text="e.g. “analysis.run”, “export.build”.")
    status = serializers.ChoiceField(choices=JOB_STATES, help_text="queued → running → succeeded | failed | cancelled.")
    stage = serializers.CharField(allow_blank=True, help_text="What the job is doing now, e.g. “Choosing k”.")
    percent = serializers.FloatField(min_value=0, max_value=100)
    queue_position = serializers.IntegerField(
        allow_null=True, help_text="1 = the next of your organization's jobs to start; null once it runs."
    )
    elapsed_seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="Why the job failed (empty otherwise).")
    cancel_requested = serializers.BooleanField()
    attempts = serializers.IntegerField(
        min_value=0, help_text="Attempts started so far (a job whose worker was lost is run again by itself)."
    )
    max_attempts = serializers.IntegerField(
        min_value=1, allow_null=True, help_text="Attempts allowed before the job fails (null for a draft)."
    )
    created_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


DRAFT = {
    "id": None,
    "kind": "",
    "status": "draft",
    "stage": "",
    "percent": 0.0,
    "queue_position": None,
    "elapsed_seconds": None,
    "error": "",
    "cancel_requested": False,
    "attempts": 0,
    "max_attempts": None,
    "created_at": None,
    "finished_at": None,
}


def job_progress(job, *, draft: bool = False) -> dict | None:
    """The job's progress; for no job, None (or, with `draft`, the shape of a run that was never queued)."""
    if job is None:
        return dict(DRAFT) if draft else None
    elapsed = job.elapsed_seconds
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "stage": job.stage,
        "percent": round(min(max(float(job.progress), 0.0), 100.0), 1),
        "queue_position": job.queue_position(),
        "elapsed_seconds": None if elapsed is None else round(elapsed, 1),
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
