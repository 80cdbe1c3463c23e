"""The Celery application. Tasks live in each app's `tasks.py` and stay thin."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segsaas.settings")
# `filesystem://` is kombu's file-system transport with whole-file writes (segsaas/broker.py says why).
TRANSPORT_ALIASES["filesystem"] = "segsaas.broker:Transport"

app = Celery("segsaas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender, **kwargs) -> None:
    """The embedded file-system broker keeps messages in folders that must exist before the first message, in
    the web process that sends it and in the worker that reads it."""
    from pathlib import Path

    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
