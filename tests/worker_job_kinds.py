"""Job kinds used only by the tests, loaded by the test process and the real worker
(JOB_HANDLER_MODULES=worker_job_kinds, with tests/ on PYTHONPATH)."""

import contextlib
import time

from jobs.services import JobError, register


@register("test.sleep")
def sleep_job(ctx):
    steps = int(ctx.job.params.get("steps", 10))
    for i in range(steps):
        ctx.progress(f"Step {i + 1} of {steps}", 100 * i / steps)
        time.sleep(float(ctx.job.params.get("step_seconds", 0.1)))
    return {"slept_steps": steps}


@register("test.fail")
def failing_job(ctx):
    ctx.progress("About to fail", 50)
    raise JobError("column 'spend': the test asked this job to fail")


@register("test.crash")
def crashing_job(ctx):
    return 1 / 0


@register("test.heavy_sleep", weight="heavy")
def heavy_sleep_job(ctx):
    """A job on the heavy queue (as an analysis is)."""
    return sleep_job(ctx)


@register("test.stubborn", weight="heavy")
def stubborn_job(ctx):
    """Ignores the soft time limit, so only the hard limit stops it."""
    from celery.exceptions import SoftTimeLimitExceeded

    deadline = time.monotonic() + float(ctx.job.params.get("seconds", 60))
    while time.monotonic() < deadline:
        with contextlib.suppress(SoftTimeLimitExceeded):
            time.sleep(0.1)
    return {"stubborn": True}


@register("test.silent", weight="heavy")
def silent_job(ctx):
    """One long step that reports no progress (as a model fit does)."""
    ctx.progress("One long step", 10)
    time.sleep(float(ctx.job.params.get("seconds", 5)))
    return {"silent": True}
