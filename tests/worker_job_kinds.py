"""Job kinds used only by the tests, loaded by the test process and the real worker
(JOB_HANDLER_MODULES=worker_job_kinds, with tests/ on PYTHONPATH)."""

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
