"""The configure-an-analysis form: engine settings plus one role per dataset column."""

from __future__ import annotations

from django import forms

from datasets.forms import BEHAVIOUR_FIELDS
from datasets.models import ColumnRole
from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME
from segments.services import BEHAVIOUR_KEYS, CONFIG_KEYS_FROM_ROLES

ALGORITHMS = [
    ("kmeans", "K-means (default)"),
    ("gmm", "Gaussian mixture"),
    ("agglomerative", "Agglomerative (Ward)"),
    ("dbscan", "DBSCAN (density; finds its own number of segments)"),
]
# One vocabulary for column roles: the dataset page's (datasets.models.ColumnRole), plus "infer" for a run.
ROLE_CHOICES = [("auto", "Infer automatically"), *ColumnRole.choices]
# Roles a behaviour column (recency, frequency, tenure) may have: the engine reads it as a number or a date.
BEHAVIOUR_ROLES = (ColumnRole.NUMERIC, ColumnRole.MONETARY, ColumnRole.DATE)
_BEHAVIOUR_TYPES = ("int", "float", "date")

# Human labels for the engine's configuration keys (Data & Analysis tab, dataset page, form).
CONFIG_LABELS = {
    "id_col": "Customer id",
    "churn_label_col": ColumnRole.CHURN_LABEL.label,
    **{key: label for key, label, _ in BEHAVIOUR_FIELDS},
    "monetary_cols": "Monetary columns",
    "numeric_cols": "Numeric columns",
    "categorical_cols": "Categorical columns",
    "date_cols": "Date columns",
    "text_cols": "Text columns",
    "ignore_cols": "Ignored columns",
}


def role_label(role: str | None) -> str:
    return dict(ROLE_CHOICES).get(role or "", str(role or "").replace("_", " ").capitalize())


def dataset_columns(dataset) -> list[str]:
    cols = [c["name"] for c in (dataset.schema or []) if isinstance(c, dict) and c.get("name")]
    return cols or list((dataset.roles or {}).keys())


def behaviour_columns(dataset, roles: dict[str, str]) -> list[str]:
    """Columns that can be recency, frequency or tenure: read as numbers or dates. A column's role in the
    form wins; a column left to inference counts by its detected role, else by its stored type."""
    profile = dataset.profile or {}
    detected = profile.get("inferred_roles") or {}
    types = {c.get("name"): c.get("type") for c in (dataset.schema or []) if isinstance(c, dict)}
    out = []
    for col in dataset_columns(dataset):
        role = roles.get(col, "auto")
        if role == "auto":
            role = detected.get(col) or (ColumnRole.NUMERIC if types.get(col) in _BEHAVIOUR_TYPES else None)
            if role == ColumnRole.NUMERIC and types.get(col) == "date":
                role = ColumnRole.DATE
        if role in BEHAVIOUR_ROLES:
            out.append(col)
    return out


def roles_from_config(config: dict, columns: list[str]) -> dict[str, str]:
    roles = {c: "auto" for c in columns}
    for role, key in CONFIG_KEYS_FROM_ROLES.items():
        for col in config.get(key) or []:
            roles[col] = role
    if config.get("id_col"):
        roles[config["id_col"]] = "identifier"
    if config.get("churn_label_col"):
        roles[config["churn_label_col"]] = "churn_label"
    return roles


class AnalysisForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Leave empty for a name from the settings.")
    algorithm = forms.ChoiceField(choices=ALGORITHMS, initial="kmeans")
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
        self.columns = dataset_columns(dataset)
        self.base_config = dict(initial_config)
        roles = roles_from_config(initial_config, self.columns)
        self.role_fields = []
        for i, col in enumerate(self.columns):
            name = f"role_{i}"
            self.fields[name] = forms.ChoiceField(choices=ROLE_CHOICES, initial=roles.get(col, "auto"), label=col)
            self.role_fields.append(name)
        eligible = behaviour_columns(dataset, roles)
        for key, label, help_text in BEHAVIOUR_FIELDS:
            current = initial_config.get(key) or ""
            columns = eligible + ([current] if current and current not in eligible else [])
            self.fields[key] = forms.ChoiceField(
                choices=[("", "— none / infer —")] + [(c, c) for c in columns],
                required=False,
                label=label,
                help_text=help_text,
                initial=current,
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

    def role_bound_fields(self):
        return [self[name] for name in self.role_fields]

    def behaviour_bound_fields(self):
        return [self[key] for key in BEHAVIOUR_KEYS]

    def clean(self):
        data = super().clean()
        if data.get("k_mode") == "fixed" and not data.get("n_clusters"):
            self.add_error("n_clusters", "Give the number of segments, or choose automatic.")
        if data.get("k_mode") == "auto" and data.get("k_min") and data.get("k_max") and data["k_min"] > data["k_max"]:
            self.add_error("k_max", "The range must go from a smaller to a larger k.")
        ids = [c for c, f in zip(self.columns, self.role_fields, strict=True) if data.get(f) == "identifier"]
        labels = [c for c, f in zip(self.columns, self.role_fields, strict=True) if data.get(f) == "churn_label"]
        if len(ids) > 1:
            self.add_error(None, f"Only one customer id column, please (got {', '.join(ids)}).")
        if len(labels) > 1:
            self.add_error(None, f"Only one churn label column, please (got {', '.join(labels)}).")
        roles = {c: data.get(f) for c, f in zip(self.columns, self.role_fields, strict=True)}
        for key, label, _ in BEHAVIOUR_FIELDS:
            col = data.get(key)
            if col and roles.get(col) not in (None, "auto", *BEHAVIOUR_ROLES):
                self.add_error(
                    key, f"{label} must be a numeric or date column; {col} is set to {role_label(roles[col]).lower()}."
                )
        return data

    def config(self) -> dict:
        """The engine config from the cleaned form (unknown-to-the-form keys kept from the base config)."""
        data = self.cleaned_data
        config = {k: v for k, v in self.base_config.items() if k not in CONFIG_KEYS_FROM_ROLES.values()}
        for key in CONFIG_KEYS_FROM_ROLES.values():
            config[key] = []
        config["id_col"] = None
        config["churn_label_col"] = None
        for col, field in zip(self.columns, self.role_fields, strict=True):
            role = data.get(field)
            if role in CONFIG_KEYS_FROM_ROLES:
                config[CONFIG_KEYS_FROM_ROLES[role]].append(col)
            elif role == "identifier":
                config["id_col"] = col
            elif role == "churn_label":
                config["churn_label_col"] = col
        for key in BEHAVIOUR_KEYS:
            config[key] = data.get(key) or None
        config["algorithm"] = data["algorithm"]
        config["nlp"] = bool(data.get("nlp"))
        if data["k_mode"] == "fixed":
            config["n_clusters"] = data["n_clusters"]
        else:
            config["n_clusters"] = None
            config["k_min"], config["k_max"] = data["k_min"], data["k_max"]
        return config
