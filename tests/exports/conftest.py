"""Fixtures for exports: finished analyses made in-process (the analyses app's own run service, no worker),
and the engine's result on a small synthetic table for the pure writers."""

import pytest
from helpers import wait_for_job  # noqa: F401 - used by the fixtures below

_ENGINE_RESULTS: dict = {}


def _finish(analysis, reuse_key=None):
    """Run the analysis through segments.services.analysis_execute here, and mark its job succeeded.

    `reuse_key`: the same synthetic table with the same config gives the same engine result, so the engine
    runs once per key and test session (the result is the engine's real output for exactly that table)."""
    import segments.engine as engine
    from jobs.models import Job
    from segments.services import analysis_execute

    real_analyze = engine.analyze

    def analyze_once(df, config=None, progress=None):
        key = (reuse_key, len(df), repr(config.to_dict() if config is not None else None))
        if reuse_key is None:
            return real_analyze(df, config, progress=progress)
        if key not in _ENGINE_RESULTS:
            _ENGINE_RESULTS[key] = real_analyze(df, config, progress=progress)
        return _ENGINE_RESULTS[key]

    engine.analyze = analyze_once
    try:
        analysis_execute(analysis=analysis, progress=lambda stage, pct: None)
    finally:
        engine.analyze = real_analyze
    job = Job.objects.for_organization(analysis.organization).create(
        kind="analysis.run",
        params={"analysis_id": analysis.pk},
        status="succeeded",
        progress=100,
        stage="Done",
    )
    analysis.job = job
    analysis.save(update_fields=["job"])
    analysis.refresh_from_db()
    return analysis


@pytest.fixture
def finished_analysis():
    """finished_analysis(org, user, rows=600, name=..., frame=None): a succeeded analysis with stored results.
    `frame`: upload this DataFrame as CSV (e.g. with hostile customer ids) instead of a synthetic dataset."""

    def make(org, user, rows=600, seed=7, name="Spring customers", frame=None, n_clusters=4):
        from segments.models import Analysis
        from segments.services import analysis_config, analysis_default_config

        if frame is None:
            from datasets.services import dataset_create_synthetic

            dataset = dataset_create_synthetic(
                organization=org, created_by=user, rows=rows, seed=seed, background=False
            )
        else:
            import io

            from datasets.services import dataset_create_from_upload

            raw = io.BytesIO(frame.to_csv(index=False).encode())
            dataset = dataset_create_from_upload(
                organization=org, uploaded_by=user, file=raw, filename="crm.csv", background=False
            )
        config = analysis_default_config(dataset)
        config.update({"n_clusters": n_clusters, "nlp": False})
        analysis = Analysis.objects.for_organization(org).create(
            dataset=dataset, name=name, config=analysis_config(dataset=dataset, config=config), created_by=user
        )
        return _finish(analysis, reuse_key=("synthetic", rows, seed) if frame is None else None)

    return make


@pytest.fixture(scope="session")
def engine_result():
    """The engine's result for 800 synthetic customers (fixed k: quick), computed once per test run."""
    from segments.engine import AnalysisConfig, analyze, generate_synthetic

    frame = generate_synthetic(rows=800, seed=11)
    return analyze(frame, AnalysisConfig.from_dict({"n_clusters": 4}))
