"""The embedded file-system broker (segsaas/broker.py) never lets a worker read a message before it is whole:
kombu's own transport creates the message file under its queue's name and then writes it, so a worker polling at
that instant read an empty or partial file (the JSONDecodeError once seen in the suite). Checked by the order of
operations, and by processes sending large messages while one reads them all."""

import multiprocessing
import os
import time
from pathlib import Path

from kombu import Connection

from segsaas import broker

TRANSPORT = "segsaas.broker:Transport"


def _options(folder: Path) -> dict:
    (folder / "control").mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def test_filesystem_urls_use_the_whole_file_transport(settings):
    from kombu.transport import resolve_transport

    import segsaas.celery  # noqa: F401 - registers the transport for filesystem:// URLs

    assert resolve_transport("filesystem") is broker.Transport


def test_a_message_appears_under_its_queue_name_only_once_written_whole(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def replace(source, target):
        # just before the rename: nothing of this message is visible to the queue's readers yet
        seen.append(sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".jobs.msg")))
        assert Path(source).read_bytes().endswith(b"}")  # the temporary file holds the whole message
        real_replace(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    with Connection(transport=TRANSPORT, transport_options=_options(tmp_path)) as connection:
        channel = connection.default_channel
        channel._put("jobs", {"body": "x" * 100_000})
        assert seen == [[]]
        assert channel._get("jobs")["body"] == "x" * 100_000
    assert not [p for p in tmp_path.iterdir() if p.is_file()]  # no temporary file left behind


def _send(folder, count):
    with Connection(transport=TRANSPORT, transport_options=_options(Path(folder))) as connection:
        for i in range(count):
            connection.default_channel._put("jobs", {"i": i, "body": "x" * 1_000_000})


def test_large_messages_sent_by_two_processes_are_all_read_whole_while_they_are_written(tmp_path):
    from queue import Empty

    senders = [multiprocessing.get_context("spawn").Process(target=_send, args=(str(tmp_path), 30)) for _ in range(2)]
    for process in senders:
        process.start()
    received, errors = [], []
    with Connection(transport=TRANSPORT, transport_options=_options(tmp_path)) as connection:
        channel = connection.default_channel

        deadline = time.time() + 120
        while len(received) + len(errors) < 60 and time.time() < deadline:
            try:
                received.append(channel._get("jobs")["i"])
            except Empty:
                time.sleep(0.001)
            except Exception as exc:  # noqa: BLE001 - what kombu's own transport raised here: JSONDecodeError
                errors.append(repr(exc))
    for process in senders:
        process.join(30)
    assert errors == []
    assert sorted(received) == sorted(list(range(30)) * 2)
