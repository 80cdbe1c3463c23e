"""The one way the product stores and reads files: uploads, Parquet tables, fitted models, chart files, exports.

Where files live is the `default` entry of `settings.STORAGES`, chosen from the environment
(`STORAGE_BACKEND`): the local disk under `MEDIA_ROOT` (the embedded default) or any S3-compatible object
store through django-storages. This module is the only code that knows which one it is; every caller
names files by their storage path (``org-3/datasets/<key>/data.parquet``) and gets files or streams back:

    save(name, fileobj)                 store a stream (multipart upload on S3), replacing any file of that name
    save_text(name, text)               a small text file (chart JSON)
    open(name)                          a seekable binary reader; on S3 it fetches byte ranges as it is read
    read_text(name)
    read_parquet(name, columns=None)    a DataFrame; iter_parquet_batches(...) reads row group by row group
    write_parquet(name, frame)
    dask_location(name)                 where Dask's workers read/write it: a local path, or s3:// and its options
    local_copy(name)                    a path for libraries that need one (joblib, converters): the file itself
                                        on disk, else a bounded scratch copy removed afterwards
    local_target(name)                  a path to write to; stored under `name` when the block ends
    exists(name), size(name), modified_time(name), list_tree(prefix)
    delete(name), delete_tree(prefix)
    download(name, filename=, content_type=)   a `Download`: a short-lived signed URL on S3, else a stream

Missing files raise FileNotFoundError on both backends. Writes are atomic for readers: a file is either
the old one or the complete new one (a rename on disk; S3 replaces an object only when its upload completes).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import mimetypes
import os
import posixpath
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage

CHUNK = 1024 * 1024


class StorageError(RuntimeError):
    """A file operation that cannot be done as asked; the message says which file and why."""


# --- names -------------------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """A storage path as given, or ValueError when it could escape its directory."""
    name = str(name or "")
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{name!r} is not a storage path (relative, '/'-separated, no empty, '.' or '..' parts)")
    return name


# --- the two backends ----------------------------------------------------------------------------------


def is_remote() -> bool:
    """True when files live in an object store (S3) rather than on this machine's disk."""
    return not isinstance(default_storage, FileSystemStorage)


def _backend():
    if isinstance(default_storage, FileSystemStorage):
        return _Local(default_storage)
    from storages.backends.s3 import S3Storage

    if isinstance(default_storage, S3Storage):
        return _S3(default_storage)
    raise StorageError(
        f"STORAGES['default'] is {type(default_storage).__name__}; SegSaaS stores files on the local disk "
        "(FileSystemStorage) or in an S3-compatible store (STORAGE_BACKEND=s3)."
    )


class _Local:
    def __init__(self, storage: FileSystemStorage):
        self.storage = storage

    def path(self, name: str) -> str:
        return self.storage.path(clean_name(name))  # safe_join: refuses paths outside MEDIA_ROOT

    def save(self, name: str, content) -> None:
        with self.target(name) as tmp:
            source = _file_path(content)
            if source is not None:
                shutil.copyfile(source, tmp)
            else:
                with builtins.open(tmp, "wb") as out:
                    _copy(content, out)

    @contextlib.contextmanager
    def target(self, name: str) -> Iterator[str]:
        final = self.path(name)
        directory, base = os.path.split(final)
        os.makedirs(directory, exist_ok=True)
        # Beside the final file (so the rename is atomic), ending in the final name (so the suffix still says
        # what the file is: joblib and pyarrow look at it).
        tmp = os.path.join(directory, f".tmp-{secrets.token_hex(6)}-{base}")
        try:
            yield tmp
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def open(self, name: str) -> BinaryIO:
        return builtins.open(self.path(name), "rb")  # noqa: SIM115 - the caller closes it

    @contextlib.contextmanager
    def local_copy(self, name: str) -> Iterator[str]:
        path = self.path(name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No stored file {name!r}")
        yield path

    def stat(self, name: str) -> os.stat_result:
        return os.stat(self.path(name))

    def list_tree(self, prefix: str) -> list[str]:
        root = self.path(prefix)
        found = []
        for directory, _dirs, files in os.walk(root):
            for file in files:
                found.append(os.path.relpath(os.path.join(directory, file), self.storage.location).replace(os.sep, "/"))
        return sorted(found)

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(name))

    def delete_tree(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def download(self, name: str, filename: str, content_type: str) -> Download:
        fh = self.open(name)
        return Download(filename=filename, content_type=content_type, size=os.fstat(fh.fileno()).st_size, file=fh)


class _S3:
    def __init__(self, storage):
        self.storage = storage
        self.client = storage.connection.meta.client
        self.bucket = storage.bucket_name

    def key(self, name: str) -> str:
        location = (self.storage.location or "").strip("/")
        name = clean_name(name)
        return f"{location}/{name}" if location else name

    def save(self, name: str, content) -> None:
        # Multipart above the TransferConfig's threshold. From a file on disk (Django's spooled upload, a local
        # target) boto3 reads each part from the file as it sends it; from a stream it holds a few parts in memory.
        args = {
            "ExtraArgs": {"ContentType": _content_type(name), **_object_parameters(self.storage)},
            "Config": self.storage.transfer_config,
        }  # the content type from our own name, never from what an uploading client claimed
        path = _file_path(content)
        if path is not None:
            self.client.upload_file(path, self.bucket, self.key(name), **args)
        else:
            self.client.upload_fileobj(_ReadBytes(content), self.bucket, self.key(name), **args)

    @contextlib.contextmanager
    def target(self, name: str) -> Iterator[str]:
        with _scratch_dir() as directory:
            path = os.path.join(directory, posixpath.basename(name))
            yield path
            self.save(name, path)

    def head(self, name: str) -> dict:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as exc:
            if _status(exc) == 404:
                raise FileNotFoundError(f"No stored file {name!r}") from exc
            raise

    def open(self, name: str) -> BinaryIO:
        size = int(self.head(name)["ContentLength"])
        return _S3RangeReader(self.client, self.bucket, self.key(name), size, name)

    @contextlib.contextmanager
    def local_copy(self, name: str) -> Iterator[str]:
        size = int(self.head(name)["ContentLength"])
        with _scratch_dir(need=size, name=name) as directory:
            path = os.path.join(directory, posixpath.basename(name))
            self.client.download_file(self.bucket, self.key(name), path, Config=self.storage.transfer_config)
            yield path

    def list_tree(self, prefix: str) -> list[str]:
        base = self.key(prefix) + "/"
        strip = len(self.key(prefix)) - len(clean_name(prefix))
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
            names.extend(entry["Key"][strip:] for entry in page.get("Contents", ()))
        return sorted(names)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))  # no error when it does not exist

    def delete_tree(self, prefix: str) -> None:
        base = self.key(prefix) + "/"
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", ())]
            if keys:  # a page holds at most 1,000 keys: exactly what one delete_objects call takes
                result = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                if result.get("Errors"):
                    first = result["Errors"][0]
                    raise StorageError(
                        f"Could not delete {len(result['Errors'])} object(s) under {prefix!r}, "
                        f"e.g. {first.get('Key')!r}: {first.get('Message') or first.get('Code')}"
                    )

    def download(self, name: str, filename: str, content_type: str) -> Download:
        from django.utils.http import content_disposition_header

        if settings.STORAGE_SIGNED_URLS:
            size = int(self.head(name)["ContentLength"])  # also: a missing file is FileNotFoundError, not a dead link
            url = self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.key(name),
                    "ResponseContentDisposition": content_disposition_header(True, filename),
                    "ResponseContentType": content_type,
                },
                ExpiresIn=int(settings.STORAGE_SIGNED_URL_SECONDS),
            )
            return Download(filename=filename, content_type=content_type, size=size, url=url)
        fh = self.open(name)
        return Download(filename=filename, content_type=content_type, size=fh.size, file=fh)


class _S3RangeReader(io.RawIOBase):
    """A seekable read-only view of one S3 object, fetched by ranged GETs as it is read.

    A read that continues the previous one fetches `STORAGE_READ_BUFFER_BYTES` ahead (a download or a copy
    streams in a few large requests); a read after a seek fetches exactly the bytes asked for, so pyarrow
    gets a Parquet file's footer and then only the column chunks of the row groups it reads."""

    def __init__(self, client, bucket: str, key: str, size: int, name: str):
        super().__init__()
        self._client, self._bucket, self._key = client, bucket, key
        self.size, self.name = size, name
        self._pos = self._last_end = 0
        self._ahead, self._ahead_start = b"", 0
        self._readahead = int(settings.STORAGE_READ_BUFFER_BYTES)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset} in {self.name!r}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError(f"read of closed file {self.name!r}")
        want = min(len(buffer), self.size - self._pos)
        if want <= 0:
            return 0
        offset = self._pos - self._ahead_start
        if offset < 0 or offset + want > len(self._ahead):
            fetch = max(want, self._readahead) if self._pos == self._last_end else want
            data = self._get(self._pos, min(fetch, self.size - self._pos))
            if len(data) > want:
                self._ahead, self._ahead_start = data, self._pos
            else:
                self._ahead = b""
            buffer[:want] = data[:want]
        else:
            buffer[:want] = self._ahead[offset : offset + want]
        self._pos += want
        self._last_end = self._pos
        return want

    def _get(self, start: int, length: int) -> bytes:
        body = self._client.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{start + length - 1}")
        with contextlib.closing(body["Body"]) as stream:
            data = stream.read()
        if len(data) != length:
            raise OSError(f"{self.name!r}: asked the object store for {length} bytes at {start}, got {len(data)}")
        return data

    def close(self) -> None:
        self._ahead = b""
        super().close()


class _ReadBytes:
    """A file object for boto3's upload: `read()` always returns bytes (Django files may hold text)."""

    def __init__(self, content):
        self._content = content
        if hasattr(content, "seek"):
            with contextlib.suppress(OSError, ValueError):
                content.seek(0)

    def read(self, size: int = -1) -> bytes:
        data = self._content.read(size)
        return data.encode() if isinstance(data, str) else data


def _file_path(content) -> str | None:
    """The path of a file on this machine's disk that holds `content`, if there is one."""
    if isinstance(content, str):
        return content
    temporary = getattr(content, "temporary_file_path", None)
    if temporary is not None:
        return temporary()
    fh = getattr(content, "file", content)
    name = getattr(fh, "name", None)
    if not isinstance(name, str):
        return None
    try:  # the file object is that file (not some other file that happens to have its name)
        return name if os.path.samestat(os.fstat(fh.fileno()), os.stat(name)) else None
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None


def _object_parameters(storage) -> dict:
    params = dict(storage.get_object_parameters(""))
    if storage.default_acl and "ACL" not in params:
        params["ACL"] = storage.default_acl
    return params


def _status(exc) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _content_type(name: str) -> str:
    """As Django's FileResponse guesses it: a compressed file is its compression's type (.csv.gz: gzip)."""
    content_type, encoding = mimetypes.guess_type(name)
    compressed = {"gzip": "application/gzip", "bzip2": "application/x-bzip", "xz": "application/x-xz"}
    return compressed.get(encoding) or content_type or "application/octet-stream"


def _copy(source, target) -> None:
    if hasattr(source, "chunks"):
        for chunk in source.chunks():
            target.write(chunk.encode() if isinstance(chunk, str) else chunk)
        return
    if hasattr(source, "seek"):
        with contextlib.suppress(OSError, ValueError):
            source.seek(0)
    for chunk in iter(lambda: source.read(CHUNK), b""):
        target.write(chunk.encode() if isinstance(chunk, str) else chunk)


@contextlib.contextmanager
def _scratch_dir(need: int = 0, name: str = "") -> Iterator[str]:
    """A private directory in `STORAGE_SCRATCH_DIR` (the system's temporary directory by default), removed
    afterwards; a copy larger than `STORAGE_SCRATCH_MAX_BYTES` or than the free space there is refused."""
    root = settings.STORAGE_SCRATCH_DIR or tempfile.gettempdir()
    limit = int(settings.STORAGE_SCRATCH_MAX_BYTES)
    if need > limit:
        raise StorageError(
            f"{name!r} is {need:,} bytes; local copies are limited to {limit:,} bytes (STORAGE_SCRATCH_MAX_BYTES)."
        )
    if need:
        os.makedirs(root, exist_ok=True)
        free = shutil.disk_usage(root).free
        if need > free:
            raise StorageError(f"{name!r} is {need:,} bytes; only {free:,} bytes are free in {root}.")
    with tempfile.TemporaryDirectory(prefix="segsaas-scratch-", dir=root) as directory:
        yield directory


# --- the API ---------------------------------------------------------------------------------------------


def save(name: str, content) -> str:
    """Store `content` (a binary file object, a Django File/UploadedFile, or the path of a local file) as `name`,
    replacing any file of that name. Streams: on S3 a multipart upload, on disk a copy then an atomic rename."""
    _backend().save(name, content)
    return name


def save_text(name: str, text: str) -> str:
    return save(name, io.BytesIO(text.encode("utf-8")))


def open(name: str) -> BinaryIO:  # the storage's `open`, as Django's storages name it (builtins.open inside)
    """A seekable binary file to read `name` (close it, or use `with`). FileNotFoundError when missing."""
    return _backend().open(name)


def read_text(name: str) -> str:
    with open(name) as fh:
        return fh.read().decode("utf-8")


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[str]:
    """A local path to `name` for the duration of the block: the file itself on disk storage, else a scratch
    copy (bounded by `STORAGE_SCRATCH_MAX_BYTES` and the free space) that is removed when the block ends."""
    with _backend().local_copy(name) as path:
        yield path


@contextlib.contextmanager
def local_target(name: str) -> Iterator[str]:
    """A local path to write `name` to; when the block ends without an error the file is stored (on disk by an
    atomic rename, on S3 by a multipart upload of the scratch file, which is then removed)."""
    with _backend().target(name) as path:
        yield path


def exists(name: str) -> bool:
    try:
        size(name)
    except FileNotFoundError:
        return False
    return True


def size(name: str) -> int:
    backend = _backend()
    if isinstance(backend, _Local):
        return backend.stat(name).st_size
    return int(backend.head(name)["ContentLength"])


def modified_time(name: str) -> float:
    """Seconds since the epoch at which `name` was last written."""
    backend = _backend()
    if isinstance(backend, _Local):
        return backend.stat(name).st_mtime
    return backend.head(name)["LastModified"].timestamp()


def list_tree(prefix: str) -> list[str]:
    """Every file under the directory `prefix`, as storage paths, sorted."""
    return _backend().list_tree(prefix)


def delete(name: str) -> None:
    """Remove one file; nothing happens when it does not exist."""
    _backend().delete(name)


def delete_tree(prefix: str) -> None:
    """Remove every file under the directory `prefix` (on disk the directory too)."""
    _backend().delete_tree(prefix)


# --- Parquet ---------------------------------------------------------------------------------------------


def read_parquet(name: str, columns: list[str] | None = None):
    """The Parquet file as a pandas DataFrame (all rows; `columns` reads fewer). On S3 only the footer and the
    wanted columns' byte ranges are fetched; nothing is copied to disk."""
    import pandas as pd

    backend = _backend()
    if isinstance(backend, _Local):
        return pd.read_parquet(backend.path(name), columns=columns)
    with backend.open(name) as fh:
        return pd.read_parquet(fh, columns=columns)


def iter_parquet_batches(name: str, *, columns: list[str] | None = None, batch_size: int = 65_536):
    """pyarrow RecordBatches of the Parquet file, read row group by row group (memory: one row group)."""
    import pyarrow.parquet as pq

    with open(name) as fh:
        yield from pq.ParquetFile(fh, pre_buffer=False).iter_batches(batch_size=batch_size, columns=columns)


def write_parquet(name: str, frame, *, row_group_size: int | None = None) -> str:
    """Store a DataFrame as Parquet (row groups of `row_group_size` rows, so readers can take it in pieces)."""
    with local_target(name) as path:
        frame.to_parquet(path, index=False, row_group_size=row_group_size)
    return name


def dask_location(name: str) -> tuple[str, dict | None]:
    """Where Dask (segments/engine/dask_path.py) reads or writes the file or folder `name`: (a path on this
    machine's disk, None) on local storage; (`s3://bucket/key`, fsspec-style storage options: the bucket's
    endpoint, region and keys, None where boto's own chain finds them) on S3. The engine's workers, on this host
    or a Dask cluster's, open it themselves: nothing passes through this process."""
    backend = _backend()
    if isinstance(backend, _Local):
        return backend.path(name), None
    storage = backend.storage
    options: dict = {}
    if getattr(storage, "access_key", None):
        options["key"] = storage.access_key
        options["secret"] = storage.secret_key
        if getattr(storage, "security_token", None):
            options["token"] = storage.security_token
    if getattr(storage, "endpoint_url", None):
        options["endpoint_url"] = storage.endpoint_url
    region = getattr(storage, "region_name", None) or backend.client.meta.region_name
    if region:
        options["client_kwargs"] = {"region_name": region}
    return f"s3://{backend.bucket}/{backend.key(name)}", options


# --- downloads -------------------------------------------------------------------------------------------


@dataclass
class Download:
    """A file to send to a person or an API client, as a service hands it over: a short-lived signed `url` of
    the object store to redirect to, an open `file` to stream, or `chunks` (bytes) made while it is sent (a
    CSV of a million customers). `as_response()` is what a view returns."""

    filename: str
    content_type: str
    size: int | None = None
    url: str | None = None
    file: BinaryIO | None = None
    chunks: Iterable[bytes] | None = None
    content: bytes | None = None

    def as_response(self):
        from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
        from django.utils.http import content_disposition_header

        if self.url is not None:
            response = HttpResponseRedirect(self.url)
        elif self.chunks is not None or self.content is not None:
            if self.content is not None:
                response = HttpResponse(self.content, content_type=self.content_type)
            else:
                response = StreamingHttpResponse(self.chunks, content_type=self.content_type)
            response["Content-Disposition"] = content_disposition_header(True, self.filename)
        else:
            response = FileResponse(
                self.file, as_attachment=True, filename=self.filename, content_type=self.content_type
            )
            if self.size is not None:
                response["Content-Length"] = str(self.size)
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def download(name: str, *, filename: str, content_type: str | None = None) -> Download:
    """`name` as a download called `filename`: on S3 a signed URL valid for `STORAGE_SIGNED_URL_SECONDS`
    (unless `STORAGE_SIGNED_URLS` is off, when it streams through this process like the local disk does)."""
    return _backend().download(name, filename, content_type or _content_type(filename))
