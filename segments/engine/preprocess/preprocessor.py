"""Preprocessor: the per-role encoders composed into one fitted transformation, raw rows -> float32 matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import BEHAVIOUR_KEYS, AnalysisConfig
from ..errors import EngineError
from ..units import DAYS_PER_MONTH, DAYS_PER_UNIT, DURATION_UNITS, UNIT_KEYS
from .categorical import CategoricalEncoder
from .dates import DateEncoder, days_ago, read_dates, read_dates_small
from .encoder import Encoder, UnusableColumn
from .numeric import NumericEncoder, read_numbers, read_numbers_small
from .text import TextEncoder

FEATURE_ROLES = ("numeric", "monetary", "date", "categorical", "text")
SMALL_BATCH = 32  # up to this many records, values are read in plain Python (see Encoder.read_small)


def make_encoder(column: str, role: str, config: AnalysisConfig, reference: np.datetime64 | None) -> Encoder:
    """The encoder for a column in a feature role, with the configuration's parameters."""
    if role in ("numeric", "monetary"):
        return NumericEncoder(column, role, missing_indicator_min_share=config.missing_indicator_min_share)
    if role == "date":
        return DateEncoder(column, reference)
    if role == "categorical":
        return CategoricalEncoder(
            column,
            label_encode_max_levels=config.label_encode_max_levels,
            onehot_max_levels=config.onehot_max_levels,
            top_levels=config.top_levels,
        )
    if role == "text":
        return TextEncoder(
            column, nlp=config.nlp, tfidf_components=config.tfidf_components, random_state=config.random_state
        )
    raise ValueError(f"{role!r} is not a feature role ({', '.join(FEATURE_ROLES)})")


class Preprocessor:
    """Fitted transformation from raw columns to the model feature matrix.

    One encoder per feature column (encoders_, in column order); every feature is standardised (mean_, std_) and
    weighted (weights_) so that one source column carries about one unit of variance. Learned from the data as
    well: the reference date (the configured one, or the newest date in the data), the behaviour columns'
    medians (for a record that lacks one), and the columns left out (ignored_, with the reason)."""

    def __init__(self, config: AnalysisConfig):
        self.config = config

    # ---------------------------------------------------------------- fitting
    def fit_transform(
        self,
        df: pd.DataFrame,
        roles: dict[str, str],
        behaviour: dict[str, str | None],
        warnings: list[str],
        ignored: dict[str, str] | None = None,
        units: dict[str, str] | None = None,
        recurring: tuple[str, str] | None = None,
    ) -> tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray]]:
        """Fit on the training rows and return their (X, profile frame of recorded values, behaviour).

        Each column is read once and each encoder computes its training features once (text features are the
        costly ones); the matrix is filled column by column, so a million rows never hold the features twice.

        ``units`` ({"recency_unit": "months", "tenure_unit": "unknown", ...}, see units.infer_units) says what a
        numeric recency or tenure counts: behaviour is in days, and a duration of unknown unit is left out of it
        (no derived figure from it). ``recurring`` (column, billing period) names a recurring charge: behaviour
        then carries "recurring", the charge per month."""
        cfg = self.config
        if units is None:  # not resolved by the caller: the configuration's stated units, else inferred
            from ..units import infer_units

            stated = {key: getattr(cfg, key, None) for key in (*UNIT_KEYS.values(), "charge_col", "charge_period")}
            guesses, found = infer_units(df, roles, behaviour, stated)
            units = {key: guess.unit for key, guess in guesses.items()}
            recurring = (found.column, found.period) if found else None
        self.units_ = dict(units)
        self.recurring_ = tuple(recurring) if recurring else None
        self.ignored_: dict[str, str] = dict(ignored or {})
        self.input_columns_ = [str(c) for c in df.columns]
        self.roles_ = dict(roles)
        self.behaviour_ = dict(behaviour)
        columns = [str(c) for c in df.columns if roles.get(str(c), "ignore") in FEATURE_ROLES]
        # dates first: they define the reference date
        parsed = {c: read_dates(df[c], c, warnings) for c in columns if roles[c] == "date"}
        self.reference_date_ = self._reference_date(parsed.values())
        self.encoders_: list[Encoder] = []
        for col in columns:
            encoder = make_encoder(col, roles[col], cfg, self.reference_date_)
            if col not in parsed:
                parsed[col] = encoder.read(df[col], False, warnings)
            try:
                self.encoders_.append(encoder.fit(parsed[col]))
            except UnusableColumn as unusable:
                if unusable.refuse_if_declared and col in self._declared(roles[col]):
                    raise EngineError(
                        f"column {col!r}: {unusable.reason}; it cannot be used in the role it was given"
                    ) from None
                self.ignored_[col] = unusable.reason
        if not any(e.role in ("numeric", "monetary", "date") for e in self.encoders_):
            raise EngineError(self._no_feature_message(roles))
        self.feature_names_ = [name for e in self.encoders_ for name in e.features_]
        self.feature_sources_ = [e.column for e in self.encoders_ for _ in e.features_]
        money = self.revenue_column()
        if self.recurring_ and self.recurring_[0] not in {
            e.column for e in self.encoders_ if e.role in ("monetary", "numeric")
        }:
            self.recurring_ = None
        charge = self.recurring_[0] if self.recurring_ else None
        keep = {self.behaviour_.get(key) for key in BEHAVIOUR_KEYS} | {money, charge}  # read again for behaviour
        parsed = {c: v for c, v in parsed.items() if c in keep or c not in self.ignored_}
        X = np.empty((len(df), len(self.feature_names_)), dtype=np.float32)
        mean, std, weights = [], [], []
        profile: dict[str, np.ndarray] = {}
        for encoder in self.encoders_:
            col = encoder.column
            encoded = encoder.transform(parsed[col] if col in keep else parsed.pop(col), observed=True)
            for values, weight in zip(encoded.features, encoder.weights_, strict=True):
                m, s = float(values.mean()), float(values.std())
                if s <= 1e-12:  # constant in the training rows: no information, no weight
                    s, weight = 1.0, 0.0
                X[:, len(mean)] = (values - m) * (weight / s)
                mean.append(m)
                std.append(s)
                weights.append(weight)
            profile.update(encoded.profile)
        self.mean_ = np.asarray(mean)
        self.std_ = np.asarray(std)
        self.weights_ = np.asarray(weights, float)
        raw = self._behaviour_values(parsed.get, df.__getitem__, small=False, strict=False)
        if money:
            raw["monetary"] = parsed[money]
        if charge:
            raw["recurring"] = self._per_month(parsed[charge])
        self.behaviour_medians_ = {k: float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0 for k, v in raw.items()}
        if money:
            raw["monetary"] = self._encoder(money).impute(parsed[money]).astype(np.float32)
        if charge:
            raw["recurring"] = self._per_month(self._encoder(charge).impute(parsed[charge]))
        return X, pd.DataFrame(profile), self._fill_behaviour(raw)

    def _per_month(self, values: np.ndarray) -> np.ndarray:
        """The recurring charge's values -> per month."""
        return np.asarray(values, float) * (DAYS_PER_MONTH / DAYS_PER_UNIT[self.recurring_[1]])

    def unit(self, key: str) -> str | None:
        """The unit a behaviour column's values are read in ("days" for a model saved before units existed)."""
        units = getattr(self, "units_", None)
        if units is None:
            return "days"
        return units.get(UNIT_KEYS.get(key, ""))

    def _reference_date(self, date_values) -> np.datetime64 | None:
        if self.config.reference_date:
            try:
                return np.datetime64(pd.Timestamp(self.config.reference_date).tz_localize(None), "ns")
            except (ValueError, TypeError) as exc:
                raise EngineError(f"config 'reference_date': {self.config.reference_date!r} is not a date") from exc
        newest = [v[~np.isnat(v)].max() for v in date_values if (~np.isnat(v)).any()]
        return max(newest) if newest else None

    def _declared(self, role: str) -> set[str]:
        """Columns the configuration gave this role explicitly (behaviour columns are declared numbers)."""
        cfg = self.config
        if role in ("numeric", "monetary"):
            return {
                *cfg.numeric_cols,
                *cfg.monetary_cols,
                *(getattr(cfg, key) for key in BEHAVIOUR_KEYS if getattr(cfg, key)),
            }
        return set({"date": cfg.date_cols, "text": cfg.text_cols}.get(role, ()))

    def _no_feature_message(self, roles: dict[str, str]) -> str:
        by_role: dict[str, list[str]] = {}
        for c, r in roles.items():
            by_role.setdefault(r, []).append(c)
        found = "; ".join(f"{r}: {', '.join(cs)}" for r, cs in sorted(by_role.items()))
        ignored = "; ".join(f"{c} ({why})" for c, why in self.ignored_.items())
        return (
            "no usable numeric feature: the data needs at least one numeric or date column with varying values "
            f"(columns by role: {found}" + (f"; ignored: {ignored}" if ignored else "") + ")"
        )

    def _encoder(self, column: str) -> Encoder:
        return next(e for e in self.encoders_ if e.column == column)

    def revenue_column(self) -> str | None:
        """The monetary column that measures a customer's spend (total spend, revenue, ...), if any."""
        monetary = [e.column for e in self.encoders_ if e.role == "monetary"]
        if not monetary:
            return None
        for pat in ("total", "spend", "revenue", "sales", "amount", "value"):
            for c in monetary:
                if pat in c.lower() and "avg" not in c.lower() and "average" not in c.lower():
                    return c
        return monetary[0]

    # ---------------------------------------------------------------- behaviour
    def _behaviour_values(self, known, column, small: bool, strict: bool) -> dict[str, np.ndarray]:
        """Recency, frequency and tenure as numbers (a date column: days before the reference date), NaN where
        missing. ``known(col)`` returns values an encoder already read (or None); ``column(col)`` the raw column."""
        out: dict[str, np.ndarray] = {}
        for key in BEHAVIOUR_KEYS:
            col = self.behaviour_.get(key)
            if not col or col not in self.input_columns_:
                continue
            values = known(col)
            if self.roles_.get(col) == "date":
                if self.reference_date_ is None:
                    continue
                if values is None:
                    raw = column(col)
                    values = read_dates_small(raw, col) if small else read_dates(raw, col, None, strict=strict)
                out[key.removesuffix("_col")] = days_ago(values, self.reference_date_)
            else:
                unit = self.unit(key)
                if key in UNIT_KEYS and unit not in DURATION_UNITS:
                    continue  # a duration of unknown unit: no derived figure from it
                if values is None:
                    raw = column(col)
                    values = read_numbers_small(raw, col) if small else read_numbers(raw, col, strict, None)
                out[key.removesuffix("_col")] = values * DAYS_PER_UNIT[unit] if key in UNIT_KEYS else values
        return out

    def _fill_behaviour(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Missing or impossible behaviour values -> the training median (a record without a recency is scored
        as a typical customer)."""
        out = {}
        for key, values in raw.items():
            if key in self.behaviour_medians_:
                values = np.asarray(values, float)
                out[key] = np.where(np.isfinite(values), values, self.behaviour_medians_[key])
        return out

    # ---------------------------------------------------------------- applying
    def transform(
        self, df, strict: bool = True, observed: bool = False, profile_frame: bool = True
    ) -> tuple[np.ndarray, pd.DataFrame | dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Rows with the training schema (missing columns are imputed) -> (X, profile frame, behaviour).

        ``df`` is a DataFrame or a mapping column -> list of values. Small inputs (a few API records) take the
        encoders' plain-Python read path: pandas' per-call overhead would dominate a few values. The profile frame
        holds the values a person reads: imputed like the model's inputs, or with ``observed`` the recorded values
        with NaN where a numeric or date value was missing. ``profile_frame=False`` returns it as a dict
        column -> array (scoring one record: building a DataFrame would cost as much as the rest of the scoring).
        """
        if isinstance(df, pd.DataFrame):
            n = len(df)

            def get(c):
                return df[c] if c in df.columns else None
        else:
            n = len(next(iter(df.values()))) if df else 1

            def get(c):
                return df.get(c)

        small = n <= SMALL_BATCH and strict

        def column(c):
            values = get(c)
            if values is None:
                return [None] * n if small else pd.Series([None] * n, dtype=object)
            if small:
                return values.tolist() if isinstance(values, pd.Series) else list(values)
            return values if isinstance(values, pd.Series) else pd.Series(values)

        X = np.empty((n, len(self.feature_names_)), dtype=np.float32)
        profile: dict[str, np.ndarray] = {}
        behaviour_columns = {self.behaviour_.get(key) for key in BEHAVIOUR_KEYS} - {None}
        kept: dict[str, np.ndarray] = {}  # values read for features that behaviour needs again
        money = self.revenue_column()
        recurring = getattr(self, "recurring_", None)
        charge = recurring[0] if recurring else None
        j = 0
        for encoder in self.encoders_:
            raw = column(encoder.column)
            parsed = encoder.read_small(raw) if small else encoder.read(raw, strict, None)
            encoded = encoder.transform(parsed, observed=observed)
            for values in encoded.features:
                X[:, j] = (values - self.mean_[j]) * (self.weights_[j] / self.std_[j])
                j += 1
            profile.update(encoded.profile)
            if encoder.column in behaviour_columns or encoder.column in (money, charge):
                kept[encoder.column] = parsed
        raw_behaviour = self._behaviour_values(kept.get, column, small=small, strict=strict)
        if money and "monetary" in self.behaviour_medians_:
            raw_behaviour["monetary"] = self._encoder(money).impute(kept[money]).astype(np.float32)
        if charge and "recurring" in self.behaviour_medians_:
            raw_behaviour["recurring"] = self._per_month(self._encoder(charge).impute(kept[charge]))
        return X, (pd.DataFrame(profile) if profile_frame else profile), self._fill_behaviour(raw_behaviour)

    def schema(self) -> dict[str, str]:
        """The fields a record may carry: column -> role (features, behaviour and pass-through columns)."""
        out = {e.column: e.role for e in self.encoders_}
        for col in self.behaviour_.values():
            if col and col not in out:
                out[col] = self.roles_.get(col, "numeric")
        for col in self.input_columns_:
            out.setdefault(col, self.roles_.get(col, "ignore"))
        return out
