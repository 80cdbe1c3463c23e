"""Every file the charts read or write, in one place, through the one storage module (`segsaas.storage`: local
disk or S3): the per-segment chart sample (Parquet, written by the analysis run) and the pre-built figures of
each tab (JSON, beside the analysis's results). Names are storage paths, like `Analysis.charts_file`."""

from __future__ import annotations

from segsaas import storage


def read_chart_sample(name: str):
    """The chart sample as a DataFrame."""
    return storage.read_parquet(name)


def read_figures(name: str) -> str | None:
    """A tab's pre-built figures file, or None when it has not been written."""
    try:
        return storage.read_text(name)
    except FileNotFoundError:
        return None


def write_figures(name: str, text: str, *, results: str) -> None:
    """Store a tab's figures file whole (a reader never sees half a file); nothing when the analysis's `results`
    file is gone (the analysis was deleted while its figures were being built)."""
    if results and storage.exists(results):
        storage.save_text(name, text)
