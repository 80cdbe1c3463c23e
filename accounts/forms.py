from django import forms

from accounts.permissions import API_SCOPE_LABELS, API_SCOPES, Role


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)

    def __init__(self, *args, assignable_roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r.value in assignable_roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput, min_length=8)
    password2 = forms.CharField(label="Repeat the password", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        from django.contrib.auth.password_validation import validate_password

        if data.get("password1"):
            validate_password(data["password1"])
        return data


class APIKeyForm(forms.Form):
    name = forms.CharField(max_length=50)
    scopes = forms.MultipleChoiceField(
        choices=[(s, API_SCOPE_LABELS[s]) for s in API_SCOPES], widget=forms.CheckboxSelectMultiple, initial=["read"]
    )


class OrganizationSettingsForm(forms.Form):
    """The fields of the settings page; the rules (currency codes, colours, the logo's type and size) are in
    `accounts.services.organization_update`, which names the field at fault."""

    name = forms.CharField(max_length=400, label="Organization name")
    currency = forms.ChoiceField(label="Currency of money figures")
    report_primary_colour = forms.CharField(label="Report colour", max_length=20)
    report_accent_colour = forms.CharField(label="Report accent colour", max_length=20)
    logo = forms.FileField(label="Report logo (PNG or JPEG)", required=False)
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from segments.engine.formatting import CURRENCIES

        self.fields["currency"].choices = [
            (code, f"{code} · {name} ({symbol.strip()})") for code, (symbol, name) in sorted(CURRENCIES.items())
        ]
