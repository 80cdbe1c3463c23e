"""Every file the charts read or write, in one place: the per-segment chart sample (Parquet, written by the
analysis run) and the pre-built figures of each tab (JSON, beside the analysis's results). Names are paths
relative to the storage root, like `Analysis.charts_file`."""

from __future__ import annotations


def read_chart_sample(name: str):
    """The chart sample as a DataFrame."""
    import pandas as pd
    from django.core.files.storage import default_storage

    return pd.read_parquet(default_storage.path(name))


def read_figures(name: str) -> str | None:
    """A tab's pre-built figures file, or None when it has not been written."""
    from django.core.files.storage import default_storage

    path = default_storage.path(name)
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def write_figures(name: str, text: str) -> None:
    """Write a tab's figures file whole (a reader never sees half a file); nothing when the analysis's
    directory is gone (its files were deleted while the figures were being built)."""
    from pathlib import Path

    from django.core.files.storage import default_storage

    path = Path(default_storage.path(name))
    if path.parent.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
