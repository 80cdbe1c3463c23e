"""The configure-an-analysis form: engine settings plus one role per dataset column."""

from __future__ import annotations

from django import forms

from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME
from segments.services import BEHAVIOUR_KEYS, CONFIG_KEYS_FROM_ROLES

ALGORITHMS = [
    ("kmeans", "K-means (default)"),
    ("gmm", "Gaussian mixture"),
    ("agglomerative", "Agglomerative (Ward)"),
    ("dbscan", "DBSCAN (density; finds its own number of segments)"),
]
ROLE_CHOICES = [
    ("auto", "Infer automatically"),
    ("numeric", "Numeric"),
    ("monetary", "Monetary (spend)"),
    ("categorical", "Categorical"),
    ("date", "Date"),
    ("text", "Text"),
    ("identifier", "Customer id"),
    ("churn_label", "Churn label (0/1)"),
    ("ignore", "Ignore"),
]


def dataset_columns(dataset) -> list[str]:
    cols = [c["name"] for c in (dataset.schema or []) if isinstance(c, dict) and c.get("name")]
    return cols or list((dataset.roles or {}).keys())


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
        column_choices = [("", "— none / infer —")] + [(c, c) for c in self.columns]
        labels = {
            "recency_col": "Recency (days since last activity, or last-activity date)",
            "frequency_col": "Frequency (number of purchases)",
            "tenure_col": "Tenure (days since first purchase, or sign-up date)",
        }
        for key in BEHAVIOUR_KEYS:
            self.fields[key] = forms.ChoiceField(
                choices=column_choices, required=False, label=labels[key], initial=initial_config.get(key) or ""
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
