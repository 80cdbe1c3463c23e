from django import forms

from monitoring.models import Frequency, WebhookEvent


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(choices=Frequency.choices)
    enabled = forms.BooleanField(required=False, initial=True)


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)
