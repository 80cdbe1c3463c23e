"""Every API key scope and every audited webhook action reads as words on the pages, not as a key."""

from accounts.models import AUDIT_ACTION_LABELS
from accounts.permissions import API_SCOPE_LABELS, API_SCOPES


def test_every_api_key_scope_has_a_description():
    assert set(API_SCOPE_LABELS) == set(API_SCOPES)
    assert all(label.startswith(f"{scope}: ") for scope, label in API_SCOPE_LABELS.items())


def test_webhook_changes_have_audit_labels():
    assert {"webhook.created", "webhook.updated", "webhook.deleted"} <= set(AUDIT_ACTION_LABELS)
