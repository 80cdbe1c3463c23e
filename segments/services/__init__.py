"""Analyses: what people ask for, what the worker runs, and what it stores. Pages, the API, the `run_analysis`
command and the job handler all go through these functions.

    analyses.py    the settings' rules (`analysis_config`), create, cancel, delete
    execute.py     the run in the worker (`analysis_execute`) and the clean-up after a failed one
    results.py     one `CustomerResult` row per customer (COPY on PostgreSQL)
    summaries.py   the chart sample and the aggregates the pages read
"""

from segments.services.analyses import (
    DEFAULT_SETTINGS,
    JOB_KIND,
    AnalysisError,
    analysis_cancel,
    analysis_config,
    analysis_create,
    analysis_default_config,
    analysis_delete,
    analysis_rerun,
    default_name,
    is_default_name,
    remove_analysis_files,
)
from segments.services.execute import analysis_execute, analysis_memory_mb, analysis_on_job_fail, dataset_dataframe

__all__ = [
    "DEFAULT_SETTINGS",
    "JOB_KIND",
    "AnalysisError",
    "analysis_cancel",
    "analysis_config",
    "analysis_create",
    "analysis_default_config",
    "analysis_delete",
    "analysis_execute",
    "analysis_memory_mb",
    "analysis_on_job_fail",
    "analysis_rerun",
    "dataset_dataframe",
    "default_name",
    "is_default_name",
    "remove_analysis_files",
]
