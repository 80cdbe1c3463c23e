"""Categorical columns: an integer code, one-hot levels, or the most frequent levels plus "other"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..coerce import is_missing_token
from .encoder import Encoded, Encoder, UnusableColumn

W_CATEGORICAL = 0.5  # a categorical column carries half a unit in total, whatever its number of levels
MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "other"


@dataclass
class Levels:
    """A batch's values as level labels: row i has ``labels[codes[i]]`` (code -1, a missing value, indexes the
    last label, MISSING_LEVEL)."""

    codes: np.ndarray
    labels: list[str]


def _label(value) -> str:
    return MISSING_LEVEL if is_missing_token(value) else str(value).strip()


class CategoricalEncoder(Encoder):
    """categorical: up to ``label_encode_max_levels`` levels -> one integer code (levels sorted); up to
    ``onehot_max_levels`` -> one-hot; more -> the ``top_levels`` most frequent levels + "other". A one-hot block is
    scaled by 1/sqrt(levels) so the column carries W_CATEGORICAL in total. Missing values are a level."""

    role = "categorical"

    def __init__(
        self, column: str, label_encode_max_levels: int = 2, onehot_max_levels: int = 15, top_levels: int = 10
    ):
        self.column = column
        self.label_encode_max_levels = label_encode_max_levels
        self.onehot_max_levels = onehot_max_levels
        self.top_levels = top_levels

    def read(self, series, strict, warnings) -> Levels:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return Levels(codes, [_label(u) for u in uniques] + [MISSING_LEVEL])

    def read_small(self, values) -> Levels:
        return Levels(np.arange(len(values)), [*(_label(v) for v in values), MISSING_LEVEL])

    def fit(self, levels: Levels) -> CategoricalEncoder:
        slots = np.where(levels.codes < 0, len(levels.labels) - 1, levels.codes)
        counts = np.bincount(slots, minlength=len(levels.labels))
        level_counts: dict[str, int] = {}
        for label, count in zip(levels.labels, counts, strict=True):
            if count:
                level_counts[label] = level_counts.get(label, 0) + int(count)
        if len(level_counts) <= 1:
            raise UnusableColumn("constant")
        ordered = sorted(level_counts, key=lambda k: (-level_counts[k], k))
        self.mode_ = ordered[0]
        self.seen_ = frozenset(level_counts)  # every training level (predict lists values outside them)
        if len(ordered) <= self.label_encode_max_levels:
            self.encoding_, self.levels_ = "label", sorted(ordered)
            self.features_, self.weights_ = [self.column], [W_CATEGORICAL]
        else:
            if len(ordered) <= self.onehot_max_levels:
                self.encoding_, self.levels_ = "onehot", ordered
            else:
                self.encoding_, self.levels_ = "top", [*ordered[: self.top_levels], OTHER_LEVEL]
            self.features_ = [f"{self.column}={level}" for level in self.levels_]
            self.weights_ = [W_CATEGORICAL / np.sqrt(len(self.levels_))] * len(self.levels_)
        return self

    def transform(self, levels: Levels, observed: bool = False) -> Encoded:
        lookup = {level: i for i, level in enumerate(self.levels_)}
        if self.encoding_ == "label":  # an unseen level reads as the most frequent one
            mode = lookup[self.mode_]
            return Encoded([np.array([lookup.get(label, mode) for label in levels.labels], float)[levels.codes]])
        other = lookup.get(OTHER_LEVEL, -1)  # an unseen level is "other" (top levels) or no level (one-hot)
        index = np.array([lookup.get(label, other) for label in levels.labels], np.int64)[levels.codes]
        return Encoded([(index == j).astype(float) for j in range(len(self.levels_))])
