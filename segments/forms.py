"""The configure-an-analysis form: engine settings plus one role per dataset column."""

from __future__ import annotations

from django import forms

from datasets.models import ColumnRole
from segments.engine.config import AUTO, BEHAVIOUR_FIELDS, BEHAVIOUR_KEYS, BEHAVIOUR_ROLES, roles_from_config
from segments.engine.units import UNIT_KEYS, UNIT_LABELS, UNITS
from segments.engine.vocabulary import algorithm_choices
from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME

# One vocabulary for column roles: the dataset page's (datasets.models.ColumnRole), plus "infer" for a run.
ROLE_CHOICES = [(AUTO, "Infer automatically"), *ColumnRole.choices]

# Human labels for the engine's configuration keys (Data & Analysis tab, dataset page, form).
CONFIG_LABELS = {
    "id_col": "Customer id",
    "churn_label_col": ColumnRole.CHURN_LABEL.label,
    **{key: label for key, label, _ in BEHAVIOUR_FIELDS},
    "recency_unit": "Recency unit",
    "tenure_unit": "Tenure unit",
    "monetary_cols": "Monetary columns",
    "numeric_cols": "Numeric columns",
    "categorical_cols": "Categorical columns",
    "date_cols": "Date columns",
    "text_cols": "Text columns",
    "ignore_cols": "Ignored columns",
    "engagement_cols": "Engagement columns",
}


def role_label(role: str | None) -> str:
    return dict(ROLE_CHOICES).get(role or "", str(role or "").replace("_", " ").capitalize())


def behaviour_columns(dataset, roles: dict[str, str]) -> list[str]:
    """Columns that can be recency, frequency or tenure (read as numbers or dates): by the column's role in the
    form, or, for a column left to inference, by the role detected on the dataset or its stored type."""
    return [c for c in dataset.column_names if dataset.column_role(c, roles.get(c)) in BEHAVIOUR_ROLES]


class AnalysisForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Leave empty for a name from the settings.")
    algorithm = forms.ChoiceField(choices=algorithm_choices(with_notes=True), initial="kmeans")
    k_mode = forms.ChoiceField(
        choices=[("auto", "Automatic (choose k in a range)"), ("fixed", "Fixed")],
        initial="auto",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="Number of segments",
    )
    k_min = forms.IntegerField(min_value=2, max_value=30, initial=2, label="From k")
    k_max = forms.IntegerField(min_value=2, max_value=30, initial=10, label="To k")
    n_clusters = forms.IntegerField(min_value=2, max_value=30, required=False, initial=5, label="k")
    nlp = forms.BooleanField(
        required=False,
        initial=True,
        label="Text analysis (sentiment and TF-IDF topics)",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch"}),
    )
    color_scheme = forms.ChoiceField(
        choices=list(COLOR_SCHEMES.items()), initial=DEFAULT_COLOR_SCHEME, label="Chart colour scheme"
    )

    def __init__(self, *args, dataset, initial_config: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        # An order log is segmented on the customer table built from it, whose roles are fixed: no role fields.
        self.columns = [] if dataset.is_order_log else dataset.column_names
        self.base_config = dict(initial_config)
        roles = roles_from_config(initial_config, self.columns)
        self.role_fields = []
        for i, col in enumerate(self.columns):
            name = f"role_{i}"
            self.fields[name] = forms.ChoiceField(choices=ROLE_CHOICES, initial=roles.get(col, "auto"), label=col)
            self.role_fields.append(name)
        eligible = behaviour_columns(dataset, roles)
        for key, label, help_text in () if dataset.is_order_log else BEHAVIOUR_FIELDS:
            current = initial_config.get(key) or ""
            columns = eligible + ([current] if current and current not in eligible else [])
            # Only eligible columns are offered; whatever arrives is checked by `analysis_create` (the same words as
            # the API's and the command's), not refused here as "not one of the choices".
            self.fields[key] = forms.CharField(
                widget=forms.Select(choices=[("", "— none / infer —")] + [(c, c) for c in columns]),
                required=False,
                label=label,
                help_text=help_text,
                initial=current,
            )
        for unit_key in () if dataset.is_order_log else UNIT_KEYS.values():
            # what the duration counts for this run: the dataset's stated unit, else inferred by the engine
            self.fields[unit_key] = forms.CharField(
                widget=forms.Select(choices=[("", "As inferred")] + [(u, UNIT_LABELS[u]) for u in UNITS]),
                required=False,
                label=CONFIG_LABELS[unit_key],
                help_text="Inferred from the name, the values and the charges when left as it is; an unknown unit "
                "derives no duration figure.",
                initial=initial_config.get(unit_key) or "",
            )
        if dataset.is_order_log:
            clv = {"horizon_days": 365, "discount_rate": 0.10, **(initial_config.get("clv") or {})}
            self.fields["clv_horizon_days"] = forms.IntegerField(
                min_value=1, max_value=3650, required=False, initial=clv["horizon_days"], label="CLV horizon (days)"
            )
            self.fields["clv_discount_percent"] = forms.FloatField(
                min_value=0,
                max_value=99,
                required=False,
                initial=round(clv["discount_rate"] * 100, 4),
                label="Discount rate (% a year)",
            )
        if not self.is_bound:
            cfg = initial_config
            self.initial.update(
                {
                    "algorithm": cfg.get("algorithm", "kmeans"),
                    "k_mode": "fixed" if cfg.get("n_clusters") else "auto",
                    "n_clusters": cfg.get("n_clusters") or 5,
                    "k_min": cfg.get("k_min", 2),
                    "k_max": cfg.get("k_max", 10),
                    "nlp": cfg.get("nlp", True),
                }
            )

    def clv_bound_fields(self):
        return [self[key] for key in ("clv_horizon_days", "clv_discount_percent") if key in self.fields]

    def role_bound_fields(self):
        return [self[name] for name in self.role_fields]

    def behaviour_bound_fields(self):
        order = [k for key in BEHAVIOUR_KEYS for k in (key, UNIT_KEYS.get(key)) if k]
        return [self[key] for key in order if key in self.fields]

    def clean(self):
        """Only what is the form's own (the "fixed k" switch); every rule about the run itself is checked by
        `analysis_create`, so the page, the API and the command refuse the same settings with the same words."""
        data = super().clean()
        if data.get("k_mode") == "fixed" and not data.get("n_clusters"):
            self.add_error("n_clusters", "Give the number of segments, or choose automatic.")
        return data

    def roles(self) -> dict[str, str]:
        """{column: role or "auto"} as chosen in the form."""
        return {
            col: self.cleaned_data.get(field) or AUTO for col, field in zip(self.columns, self.role_fields, strict=True)
        }

    def behaviour(self) -> dict[str, str | None]:
        keys = (*BEHAVIOUR_KEYS, *UNIT_KEYS.values())
        return {key: self.cleaned_data.get(key) or None for key in keys if key in self.fields}

    def settings(self) -> dict:
        data = self.cleaned_data
        settings = {"algorithm": data["algorithm"], "nlp": bool(data.get("nlp"))}
        if "clv_horizon_days" in self.fields:
            settings["clv_horizon_days"] = data.get("clv_horizon_days")
            percent = data.get("clv_discount_percent")
            settings["clv_discount_rate"] = None if percent is None else percent / 100
        if data["k_mode"] == "fixed":
            settings["n_clusters"] = data["n_clusters"]
        else:
            settings.update(n_clusters=None, k_min=data["k_min"], k_max=data["k_max"])
        return settings

    def show_error(self, exc) -> None:
        """A refusal from `analysis_create`, beside each field it names (the roles table's errors above it)."""
        for field, messages in exc.details.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
