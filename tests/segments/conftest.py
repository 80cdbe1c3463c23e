"""Fixtures for analyses: small synthetic datasets (made inline, no worker needed) and a helper
that queues an analysis through the service and waits for the real worker to finish it."""

import pytest
from helpers import wait_for_job  # noqa: F401 - used by the fixtures below


@pytest.fixture
def make_dataset():
    def make(org, user, rows=2_000, seed=7, name=None):
        from datasets.services import dataset_create_synthetic

        return dataset_create_synthetic(
            organization=org, created_by=user, rows=rows, seed=seed, name=name, background=False
        )

    return make


@pytest.fixture
def run_analysis():
    """Queue an analysis (fixed k keeps it quick) and wait for the worker."""

    def run(dataset, user, wait=True, timeout=180, **config):
        from segments.services import analysis_create, analysis_default_config

        cfg = analysis_default_config(dataset)
        cfg.update({"n_clusters": 4, "nlp": False})
        cfg.update(config)
        analysis = analysis_create(
            organization=dataset.organization,
            dataset=dataset,
            config=cfg,
            name=config.pop("name", "") if "name" in config else "",
            created_by=user,
        )
        if wait:
            wait_for_job(analysis.job, timeout=timeout)
            analysis.refresh_from_db()
        return analysis

    return run


@pytest.fixture
def finished_analysis(make_dataset):
    """An analysis run in this process through the job's own entry point (no worker needed): for page tests."""

    def make(org, user, rows=1_500, **config):
        from jobs.services import job_execute
        from segments.services import analysis_create, analysis_default_config

        dataset = make_dataset(org, user, rows=rows)
        cfg = analysis_default_config(dataset) | {"n_clusters": 4, "nlp": False} | config
        analysis = analysis_create(organization=org, dataset=dataset, config=cfg, name="", created_by=user)
        assert job_execute(analysis.job_id) == "succeeded"
        analysis.refresh_from_db()
        analysis.job.refresh_from_db()
        return analysis

    return make
