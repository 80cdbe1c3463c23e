"""The embedded file-system broker (`CELERY_BROKER_URL=filesystem://`) with whole-file writes.

kombu's file-system transport creates a message file under its final name and only then writes the message into
it, and rewrites an exchange's table in place (opened for writing, so emptied, before its lock is taken). Its
reader takes neither lock before moving a message away: a worker polling at that instant moves and reads an empty
or half-written file, and `json.loads` fails (the JSONDecodeError seen once in the suite, with several processes
sending and polling at once). Here every file is written under a temporary name that no queue reads and renamed
into place (`os.replace`, atomic on one file system), so a reader sees a whole message or none; an exchange's table
is changed under a lock on a separate file and replaced the same way.

`segsaas/celery.py` makes this the transport of `filesystem://` URLs.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

TEMP_SUFFIX = ".partial"  # never "<queue>.msg": no queue's reader picks it up


def write_whole(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file, or the new one whole, never a part."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


@contextmanager
def _table_lock(exchange_file: Path):
    with open(exchange_file.with_name(exchange_file.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written aside, then renamed into the queue's folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_whole(os.path.join(self.data_folder_out, name), str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _read_table(self, file: Path) -> list:
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(file.read_bytes()))]
        except FileNotFoundError:
            return []

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            return self._read_table(file)
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            with _table_lock(file):
                queues = self._read_table(file)
                if entry not in queues:
                    write_whole(file, str_to_bytes(dumps([entry, *queues])))
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        filesystem.virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        file = self._exchange_file(exchange)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with _table_lock(file):
            queues = self._read_table(file)
            if entry in queues:
                queues.remove(entry)
                write_whole(file, str_to_bytes(dumps(queues)))


class Transport(filesystem.Transport):
    Channel = Channel
