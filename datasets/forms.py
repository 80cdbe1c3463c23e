import secrets

from django import forms

from datasets.models import ColumnRole, DatasetKind
from datasets.services import MAX_SYNTHETIC_ROWS
from segments.engine.config import BEHAVIOUR_FIELDS, ENGAGEMENT_DIRECTIONS, ENGAGEMENT_KEY
from segments.engine.units import CHARGE_KEYS, CHARGE_PERIOD_LABELS, UNIT_KEYS, UNIT_LABELS, UNITS


class UploadForm(forms.Form):
    file = forms.FileField(allow_empty_file=True)  # an empty file gets the service's own message
    name = forms.CharField(max_length=200, required=False)
    # The browser's name for the file (Django strips directories from the multipart name; this keeps the
    # original so a path-like name is refused rather than silently shortened). Display only, never a path.
    filename = forms.CharField(max_length=1000, required=False)


def random_seed() -> int:
    """A fresh seed each time the form is shown, so the defaults make new customers (seed 42 is the demo's)."""
    return secrets.randbelow(1_000_000)


class SyntheticForm(forms.Form):
    rows = forms.IntegerField(min_value=100, max_value=MAX_SYNTHETIC_ROWS, initial=10_000)
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, initial=random_seed)
    name = forms.CharField(max_length=200, required=False)


class RolesForm(forms.Form):
    """One role select per column (`role_<index>`, since column names can be anything) and three
    behavioural selects."""

    def __init__(self, *args, dataset, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = dataset.column_names
        for i, col in enumerate(self.columns):
            self.fields[f"role_{i}"] = forms.ChoiceField(
                choices=ColumnRole.choices, initial=dataset.roles.get(col, ColumnRole.IGNORE), label=col
            )
        choices = [("", "— none —")] + [(c, c) for c in self.columns]
        behaviour = dataset.behaviour_roles or {}
        for key, label, help_text in BEHAVIOUR_FIELDS:
            self.fields[key] = forms.ChoiceField(
                choices=choices, required=False, initial=behaviour.get(key) or "", label=label, help_text=help_text
            )
        inferred = dataset.inferred_behaviour_units
        for key, unit_key in UNIT_KEYS.items():
            guess = (inferred.get(unit_key) or {}).get("unit")
            auto = f"As inferred: {UNIT_LABELS.get(guess, guess).lower()}" if guess else "As inferred"
            self.fields[unit_key] = forms.ChoiceField(
                choices=[("", auto)] + [(u, UNIT_LABELS[u]) for u in UNITS],
                required=False,
                initial=behaviour.get(unit_key) or "",
                label=f"{dict((k, lab) for k, lab, _ in BEHAVIOUR_FIELDS)[key]} unit",
            )
        # a recurring charge whose name does not say its period: the column and what it is charged per
        self.fields["charge_col"] = forms.ChoiceField(
            choices=choices,
            required=False,
            initial=behaviour.get("charge_col") or "",
            label="Recurring charge",
            help_text="A money column charged per period (e.g. plan_price); leave empty to let names decide",
        )
        self.fields["charge_period"] = forms.ChoiceField(
            choices=[("", "— choose —"), *CHARGE_PERIOD_LABELS.items()],
            required=False,
            initial=behaviour.get("charge_period") or "",
            label="Charged",
        )
        # engagement: one direction select per column (`engagement_<index>`), "" = not engagement
        engagement = behaviour.get(ENGAGEMENT_KEY)
        if engagement is None:  # a dataset profiled before engagement roles: show the engine's guess
            engagement = (dataset.profile or {}).get("inferred_engagement") or {}
        self.engagement_initial = dict(engagement)
        direction_choices = [("", "— not engagement —"), *ENGAGEMENT_DIRECTIONS.items()]
        for i, col in enumerate(self.columns):
            self.fields[f"engagement_{i}"] = forms.ChoiceField(
                choices=direction_choices, required=False, initial=engagement.get(col, ""), label=col
            )

    def roles(self) -> dict:
        return {col: self.cleaned_data[f"role_{i}"] for i, col in enumerate(self.columns)}

    def behaviour_roles(self) -> dict:
        out = {key: self.cleaned_data.get(key) or None for key, _, _ in BEHAVIOUR_FIELDS}
        out.update({unit_key: self.cleaned_data.get(unit_key) or None for unit_key in UNIT_KEYS.values()})
        out.update({key: self.cleaned_data.get(key) or None for key in CHARGE_KEYS})
        return out

    def engagement(self) -> dict:
        return {
            col: self.cleaned_data[f"engagement_{i}"]
            for i, col in enumerate(self.columns)
            if self.cleaned_data.get(f"engagement_{i}")
        }

    def engagement_rows(self, roles: dict) -> list:
        """(column, bound select) for the columns that can measure engagement (numbers, dates) or already do."""
        return [
            (col, self[f"engagement_{i}"])
            for i, col in enumerate(self.columns)
            if roles.get(col) in ("numeric", "monetary", "date") or col in self.engagement_initial
        ]

    def role_field(self, index):
        return self[f"role_{index}"]


class OrderLogForm(forms.Form):
    """What the table is (a customer table or an order log) and, for an order log, which column is which."""

    kind = forms.ChoiceField(choices=DatasetKind.choices, widget=forms.RadioSelect, label="This table is")

    def __init__(self, *args, dataset, **kwargs):
        from segments.engine.clv.product import ORDER_COLUMN_KEYS, ORDER_COLUMN_LABELS, REQUIRED_ORDER_KEYS

        super().__init__(*args, **kwargs)
        self.fields["kind"].initial = dataset.kind
        current = dataset.order_columns or {}
        choices = [("", "— none —")] + [(c, c) for c in dataset.column_names]
        self.keys = ORDER_COLUMN_KEYS
        for key in ORDER_COLUMN_KEYS:
            # Any value is passed on: `dataset_set_kind` names a column that is not in the table.
            self.fields[key] = forms.CharField(
                widget=forms.Select(choices=choices),
                required=False,
                label=ORDER_COLUMN_LABELS[key],
                initial=current.get(key) or "",
            )
            self.fields[key].required_for_log = key in REQUIRED_ORDER_KEYS

    def column_fields(self):
        return [self[key] for key in self.keys]

    def order_columns(self) -> dict:
        return {key: self.cleaned_data.get(key) or None for key in self.keys}

    def show_error(self, exc) -> None:
        for field, messages in exc.details.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
