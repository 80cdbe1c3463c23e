"""What every role's encoder shares: the Encoder shape, its output, and the "this column cannot be used" signal."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..coerce import first_bad_example
from ..errors import EngineError

BAD_VALUE_TOLERANCE = 0.05  # share of unparseable values treated as missing before we refuse a column


def tolerate_unparseable(
    series: pd.Series,
    column: str,
    bad: np.ndarray,
    n_parsed: int,
    strict: bool,
    warnings: list[str] | None,
    refused: str,
    tolerated: str,
) -> None:
    """The one rule for values a column's reader could not parse: missing values (with a warning) up to
    BAD_VALUE_TOLERANCE of the filled values, an error beyond it or when strict. ``refused`` and ``tolerated`` are
    the messages, with ``{column}`` (its repr is ``{column!r}``), ``{n}`` (how many), ``{share}`` (of the filled values) and ``{example}`` to fill in."""
    n_bad = int(bad.sum())
    if not n_bad:
        return
    share = n_bad / max(n_parsed + n_bad, 1)
    facts = {"column": column, "n": n_bad, "share": share, "example": first_bad_example(series, bad)}
    if strict or share > BAD_VALUE_TOLERANCE:
        raise EngineError(refused.format(**facts))
    if warnings is not None:
        warnings.append(tolerated.format(**facts))


class UnusableColumn(Exception):
    """Raised by an encoder's fit when the training values cannot make a feature ("constant", "all values
    missing"). With refuse_if_declared, a column the configuration gave this role explicitly is an error (the
    user asked for something the data cannot give); otherwise the column is listed as ignored."""

    def __init__(self, reason: str, refuse_if_declared: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.refuse_if_declared = refuse_if_declared


@dataclass
class Encoded:
    """One column's encoding of a set of rows: a float64 array per feature (in the encoder's features_ order,
    before standardisation) and the values a person reads, by display name."""

    features: list[np.ndarray]
    profile: dict[str, np.ndarray] = field(default_factory=dict)


class Encoder(ABC):
    """One source column -> model features; parameters in the constructor, learned state in trailing-underscore
    attributes (scikit-learn manners).

    - ``read(series, strict, warnings)`` the column's values for a batch (pandas; messy values coerced once per
      distinct value); ``read_small(values)`` the same for a few records as a plain list (one API record must not
      pay pandas' per-call overhead: this is the single-record fast path);
    - ``fit(parsed)`` learns from the training rows' values (raises UnusableColumn) and sets ``features_`` (the
      feature names) and ``weights_`` (each feature's weight once standardised);
    - ``transform(parsed, observed=False) -> Encoded`` applies it to any rows. The profile holds the values a
      person reads: imputed like the model's inputs, or with ``observed`` the recorded values (NaN where missing).
    """

    role: str = ""
    column: str
    features_: list[str]
    weights_: list[float]

    @abstractmethod
    def read(self, series, strict: bool, warnings: list[str] | None): ...

    @abstractmethod
    def read_small(self, values: list): ...

    @abstractmethod
    def fit(self, parsed) -> Encoder: ...

    @abstractmethod
    def transform(self, parsed, observed: bool = False) -> Encoded: ...
