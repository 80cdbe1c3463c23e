"""Queue an analysis of a dataset through the same service as the page; optionally wait for it.

python manage.py run_analysis --dataset 12 [--algorithm kmeans] [--k auto|5] [--nlp] [--role COLUMN=ROLE ...]
    [--recency-col C] [--frequency-col C] [--tenure-col C] [--recency-unit U] [--tenure-unit U] [--wait]
"""

import time

from django.core.management.base import BaseCommand, CommandError

from segments.engine.config import ALGORITHMS, BEHAVIOUR_KEYS, BEHAVIOUR_SETTING_KEYS, BEHAVIOUR_UNIT_KEYS, ROLES
from segments.engine.units import CHARGE_PERIODS, UNITS


class Command(BaseCommand):
    help = "Queue a segmentation analysis of a dataset (runs in the Celery worker); --wait follows its progress."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", type=int, required=True, help="dataset id")
        parser.add_argument("--algorithm", choices=ALGORITHMS, default=None, help="default: kmeans")
        parser.add_argument("--k", default="auto", help="'auto' (choose k in --k-min..--k-max) or a number of segments")
        parser.add_argument("--k-min", type=int, default=None)
        parser.add_argument("--k-max", type=int, default=None)
        parser.add_argument("--nlp", action="store_true", default=None, help="text analysis on (the default)")
        parser.add_argument("--no-nlp", dest="nlp", action="store_false", help="text analysis off")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            metavar="COLUMN=ROLE",
            help=f"a column's role for this run ({', '.join(ROLES)}, auto); repeatable; default: the dataset's roles",
        )
        for key in BEHAVIOUR_KEYS:
            flag = "--" + key.removesuffix("_col") + "-col"
            parser.add_argument(flag, dest=key, default=None, help=f"the {key.removesuffix('_col')} column")
        for key in BEHAVIOUR_UNIT_KEYS:
            parser.add_argument(
                "--" + key.replace("_", "-"),
                dest=key,
                default=None,
                choices=UNITS,
                help=f"what the {key.removesuffix('_unit')} column counts (default: the dataset's, else inferred)",
            )
        parser.add_argument(
            "--charge-col",
            dest="charge_col",
            default=None,
            help="a recurring charge per period whose name does not say the period (default: the dataset's)",
        )
        parser.add_argument(
            "--charge-period",
            dest="charge_period",
            default=None,
            choices=CHARGE_PERIODS,
            help="what --charge-col is charged per",
        )
        parser.add_argument("--name", default="", help="analysis name (default: from the settings)")
        parser.add_argument("--color-scheme", default=None, help="Plotly qualitative palette for the charts")
        parser.add_argument("--wait", action="store_true", help="print each stage until the run finishes")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)")

    def handle(self, *args, **opts):
        from datasets.models import Dataset
        from segments.models import DEFAULT_COLOR_SCHEME
        from segments.services import AnalysisError, analysis_create

        dataset = Dataset.objects.unscoped().select_related("organization").filter(pk=opts["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No dataset with id {opts['dataset']}.")
        settings = {}
        if opts["algorithm"]:
            settings["algorithm"] = opts["algorithm"]
        k = str(opts["k"]).strip().lower()
        if k == "auto":
            settings["n_clusters"] = None
        elif k.isdigit():
            settings["n_clusters"] = int(k)
        else:
            raise CommandError(f"--k must be 'auto' or a whole number, got {opts['k']!r}.")
        for key in ("k_min", "k_max", "nlp"):
            if opts[key] is not None:
                settings[key] = opts[key]
        roles = {}
        for item in opts["role"]:
            column, sep, role = item.rpartition("=")
            if not sep or not column:
                raise CommandError(f"--role takes COLUMN=ROLE, got {item!r}.")
            roles[column] = role.strip()
        try:
            analysis = analysis_create(
                organization=dataset.organization,
                dataset=dataset,
                roles=roles or None,
                behaviour={key: opts[key] for key in BEHAVIOUR_SETTING_KEYS if opts[key] is not None},
                settings=settings,
                name=opts["name"],
                created_by=None,
                color_scheme=opts["color_scheme"] or DEFAULT_COLOR_SCHEME,
            )
        except AnalysisError as exc:
            field = f" ({exc.field})" if exc.field else ""
            raise CommandError(f"{exc}{field}") from exc
        self.stdout.write(
            f"Queued analysis {analysis.pk} “{analysis.name}” (job {analysis.job_id}) "
            f"for organization “{dataset.organization.name}”."
        )
        if not opts["wait"]:
            return
        self._follow(analysis, opts["timeout"])

    def _follow(self, analysis, timeout: float) -> None:
        from jobs.models import FINISHED_STATUSES

        job = analysis.job
        deadline = time.monotonic() + timeout
        last = None
        told_waiting = False
        while True:
            job.refresh_from_db()
            state = (job.status, job.stage)
            if job.status == "queued" and not told_waiting:
                position = job.queue_position()
                where = f" (position {position} in the organization's queue)" if position else ""
                self.stdout.write(f"Waiting for a Celery worker to start the job{where}…")
                told_waiting = True
            if state != last and job.status == "running":
                self.stdout.write(f"[{job.progress:5.1f}%] {job.stage}")
            last = state
            if job.status in FINISHED_STATUSES:
                break
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Gave up waiting after {timeout:.0f} s: job {job.pk} is still {job.status} "
                    f"({job.stage}). Is a worker running on the heavy queue? (bin/run, or README: Workers and queues)"
                )
            time.sleep(0.5)
        if job.status == "succeeded":
            analysis.refresh_from_db()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Succeeded: analysis {analysis.pk}, {analysis.n_segments} segments, "
                    f"{analysis.customer_count:,} customers, {job.elapsed_seconds:.1f} s."
                )
            )
            return
        message = job.error or job.stage
        raise CommandError(f"Analysis {analysis.pk} {job.status}: {message}")
