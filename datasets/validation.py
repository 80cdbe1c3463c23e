"""Checking an uploaded table before anything is stored: one streaming pass, constant memory.

`validate_upload()` is the one validation path (upload page, API, `import_dataset` command). It reads
the file once from start to end without holding it in memory: it detects the encoding (UTF-8,
UTF-8 with BOM, Windows-1252, Latin-1; see `detect_encoding`) and the delimiter (comma, semicolon, tab, pipe) on a head
sample, then walks every row to count rows and columns and find ragged rows. Compressed input is
bounded: a `.csv.gz` whose decompressed size passes the cap is rejected while reading (not
expanded), and an `.xlsx` whose members declare more than the cap is rejected before opening.

Every problem raises `DatasetRejected` with a message naming the file, and the row, column or
limit involved. Rows are counted from 1 after the header; "line" is the physical line in the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings

from segments.engine.errors import UserFacingError

HEAD_BYTES = 64 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook must be named .xlsx)",
    b"\x1f\x8b": "gzip-compressed data (name it .csv.gz)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document (.xls); save it as .xlsx or CSV",
    b"\x7fELF": "an executable program",
}
_MARKUP = re.compile(r"^\s*(<\?xml|<!doctype|<html|<svg|\{|\[)", re.IGNORECASE)
_CONTROL = bytes(range(0, 32)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"").replace(b"\x0c", b"")


class DatasetError(UserFacingError):
    """A dataset request that cannot be carried out; the message is meant for the user."""


class DatasetRejected(DatasetError):
    """An upload that is refused. Nothing of it is kept. The field at fault is the file, unless said otherwise."""

    def __init__(self, message: str, *, field: str | None = "file"):
        super().__init__(message, field=field)


@dataclass
class UploadInfo:
    """What the validation pass learnt about a file."""

    kind: str  # "csv", "csv.gz" or "xlsx"
    display_name: str
    size: int
    header: list[str]
    row_count: int
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    short_rows: int = 0
    decompressed_bytes: int = 0
    notes: list[str] = field(default_factory=list)


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def short_row_tolerance() -> float:
    return float(settings.DATASETS_SHORT_ROW_TOLERANCE)


def decompression_factor() -> int:
    return int(settings.DATASETS_DECOMPRESSION_FACTOR)


# ---------------------------------------------------------------------------------------------------
# File names


def check_filename(filename: str) -> tuple[str, str]:
    """(display name, kind) for a client-supplied file name; rejects path-like or unsupported names."""
    raw = filename or ""
    if not raw.strip():
        raise DatasetRejected("The upload has no file name; choose a .csv, .csv.gz or .xlsx file.")
    if "/" in raw or "\\" in raw or raw.strip() in {".", ".."} or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise DatasetRejected(
            f"{raw!r}: a file name may not contain a path ('/', '\\' or '..') or control characters; "
            "upload the file under a plain name such as customers.csv."
        )
    if len(raw) > 200:
        raise DatasetRejected(f"The file name is {len(raw)} characters long; the limit is 200.")
    lower = raw.lower()
    if lower.endswith((".csv.gz", ".tsv.gz", ".txt.gz")):
        kind = "csv.gz"
    elif lower.endswith((".csv", ".tsv", ".txt")):
        kind = "csv"
    elif lower.endswith(".xlsx"):
        kind = "xlsx"
    else:
        raise DatasetRejected(f"{raw}: unsupported file type; upload a .csv, .csv.gz or .xlsx file.")
    return raw, kind


# ---------------------------------------------------------------------------------------------------
# Byte streams


class _RawReader(io.RawIOBase):
    """Adapts anything with `.read(n)` to a raw stream, counting bytes and refusing to pass `cap`."""

    def __init__(self, source, *, cap: int | None = None, on_cap=None):
        self._source = source
        self._cap = cap
        self._on_cap = on_cap
        self.count = 0
        self.saw_nul = False  # a NUL byte went past (the csv module reads NUL characters as data since Python 3.11)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        self.count += n
        if self._cap is not None and self.count > self._cap:
            self._on_cap()
        if not self.saw_nul and b"\x00" in data:
            self.saw_nul = True
        buffer[:n] = data
        return n


def _open_bytes(fileobj, kind: str, name: str, cap: int) -> _RawReader:
    """A fresh stream of the file's (decompressed) bytes from its start."""
    import gzip

    fileobj.seek(0)
    if kind != "csv.gz":
        return _RawReader(fileobj)

    def too_big():
        raise DatasetRejected(
            f"{name}: decompressed, the file is larger than {cap:,} bytes ({decompression_factor()} × this "
            f"organization's upload limit); it was rejected without being expanded further."
        )

    return _RawReader(gzip.GzipFile(fileobj=fileobj, mode="rb"), cap=cap, on_cap=too_big)


def _read_head(raw: _RawReader, name: str, kind: str) -> bytes:
    import gzip
    import zlib

    try:
        return io.BufferedReader(raw).read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        if kind == "csv.gz":
            raise DatasetRejected(f"{name}: the file is not valid gzip data ({exc}).") from exc
        raise


def _check_binary(head: bytes, name: str) -> None:
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DatasetRejected(f"{name}: this is {what}, not a CSV table.")
    if b"\x00" in head:
        raise DatasetRejected(
            f"{name}: the file contains NUL bytes, so it is binary (or UTF-16 text), not a CSV table; "
            "save it as CSV (UTF-8) and upload it again."
        )
    controls = sum(head.count(bytes([c])) for c in _CONTROL)
    if head and controls / len(head) > 0.005:
        raise DatasetRejected(f"{name}: the file contains binary control characters, not CSV text.")


def detect_encoding(head: bytes) -> str:
    """utf-8-sig, utf-8, cp1252 or latin-1, judged on the head of the file.

    Not UTF-8 means a single-byte Western encoding. Windows-1252 and Latin-1 differ only in bytes
    0x80-0x9F: printable in Windows-1252 (€, ‘, ”, …), control codes in Latin-1. So the file is
    Latin-1 only when such a byte is one Windows-1252 leaves undefined; otherwise Windows-1252
    (which reads any Latin-1 text without those bytes identically). A rule, not a statistical guess,
    so the same file always gets the same answer."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d
        return "latin-1"


def _decode_head(head: bytes, encoding: str) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def _field_counts(sample: str, delimiter: str) -> tuple[float, int]:
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r][:200]
    except csv.Error:
        return 0.0, 0
    if not rows:
        return 0.0, 0
    width = len(rows[0])
    body = rows[1:]
    consistent = 1.0 if not body else sum(len(r) == width for r in body) / len(body)
    return consistent, width


def detect_delimiter(sample: str, name: str) -> str:
    """The delimiter among , ; tab | that splits the sample into a consistent table of 2+ columns."""
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in DELIMITERS:
        consistent, width = _field_counts(sample, sniffed)
        if width > 1 and consistent >= 0.9:
            return sniffed
    scored = []
    for delimiter in DELIMITERS:
        consistent, width = _field_counts(sample, delimiter)
        if width > 1:
            scored.append((consistent, width, delimiter))
    if not scored:
        raise DatasetRejected(
            f"{name}: no column delimiter (comma, semicolon, tab or pipe) found in the first line; "
            "the file does not look like a table with at least two columns."
        )
    return max(scored)[2]


def _check_header(header: list[str], name: str, organization) -> list[str]:
    names = [h.strip() for h in header]
    # A trailing delimiter on the header line gives one empty last name: drop it, rows are checked the same way.
    while len(names) > 1 and names[-1] == "":
        names.pop()
    if len(names) > organization.max_columns:
        raise DatasetRejected(
            f"{name}: the header has {len(names):,} columns; this organization's limit is "
            f"{organization.max_columns:,} columns."
        )
    if len(names) < 2:
        raise DatasetRejected(f"{name}: the header has only one column; a customer table needs at least two.")
    seen: dict[str, int] = {}
    for i, col in enumerate(names, start=1):
        if col == "":
            raise DatasetRejected(f"{name}: column {i} has a blank name in the header row; every column needs a name.")
        if col in seen:
            raise DatasetRejected(
                f"{name}: column name {col!r} appears twice in the header row (columns {seen[col]} and {i}); "
                "column names must be unique."
            )
        seen[col] = i
    return names


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


# ---------------------------------------------------------------------------------------------------
# The one entry point


def validate_upload(fileobj, *, filename: str, size: int, organization) -> UploadInfo:
    """Validate an uploaded file (a binary file object, read from its start). Raises DatasetRejected."""
    name, kind = check_filename(filename)
    if size > organization.max_upload_bytes:
        raise DatasetRejected(
            f"{name}: the file is {size:,} bytes ({_fmt_bytes(size)}); this organization's upload limit is "
            f"{organization.max_upload_bytes:,} bytes ({_fmt_bytes(organization.max_upload_bytes)})."
        )
    if size == 0:
        raise DatasetRejected(f"{name}: the file is empty.")
    cap = organization.max_upload_bytes * decompression_factor()
    if kind == "xlsx":
        return _validate_xlsx(fileobj, name=name, size=size, cap=cap, organization=organization)
    return _validate_csv(fileobj, name=name, kind=kind, size=size, cap=cap, organization=organization)


def _validate_csv(fileobj, *, name, kind, size, cap, organization) -> UploadInfo:
    head = _read_head(_open_bytes(fileobj, kind, name, cap), name, kind)
    if not head.strip():
        raise DatasetRejected(f"{name}: the file is empty.")
    _check_binary(head, name)
    encoding = detect_encoding(head)
    sample = _decode_head(head, encoding)
    if _MARKUP.match(sample):
        raise DatasetRejected(f"{name}: the file looks like HTML, XML or JSON, not a CSV table.")
    delimiter = detect_delimiter(sample, name)
    try:
        return _walk_csv(
            fileobj,
            name=name,
            kind=kind,
            size=size,
            cap=cap,
            encoding=encoding,
            delimiter=delimiter,
            organization=organization,
        )
    except UnicodeDecodeError:
        if encoding not in ("utf-8", "utf-8-sig", "cp1252"):
            raise
    # The head was valid UTF-8 but a later byte is not: the file is a single-byte Western encoding.
    fallback = "latin-1" if encoding == "cp1252" else "cp1252"
    try:
        return _walk_csv(
            fileobj,
            name=name,
            kind=kind,
            size=size,
            cap=cap,
            encoding=fallback,
            delimiter=delimiter,
            organization=organization,
        )
    except UnicodeDecodeError:
        return _walk_csv(
            fileobj,
            name=name,
            kind=kind,
            size=size,
            cap=cap,
            encoding="latin-1",
            delimiter=delimiter,
            organization=organization,
        )


def _walk_csv(fileobj, *, name, kind, size, cap, encoding, delimiter, organization) -> UploadInfo:
    import gzip
    import zlib

    raw = _open_bytes(fileobj, kind, name, cap)
    text = io.TextIOWrapper(io.BufferedReader(raw, buffer_size=256 * 1024), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    rows = short = 0
    first_short = None
    header = None
    try:
        for row in reader:
            if _blank(row):
                continue
            if header is None:
                header = _check_header(row, name, organization)
                width = len(header)
                continue
            rows += 1
            n = len(row)
            if raw.saw_nul and "\x00" in "".join(row):
                raise DatasetRejected(
                    f"{name}: row {rows:,} (line {reader.line_num:,}) contains NUL bytes; the file is binary, not a "
                    "CSV table."
                )
            if n > width and any(v.strip() for v in row[width:]):
                raise DatasetRejected(
                    f"{name}: row {rows:,} (line {reader.line_num:,}) has {n} fields but the header has {width} "
                    f"columns; check the delimiter and quoting on that line."
                )
            if n < width:
                short += 1
                if first_short is None:
                    first_short = (rows, reader.line_num, n)
    except csv.Error as exc:
        where = f"row {rows + 1:,} (line {reader.line_num:,})"
        if "NUL" in str(exc):
            raise DatasetRejected(f"{name}: {where} contains NUL bytes; the file is binary, not a CSV table.") from exc
        if "field larger" in str(exc):
            raise DatasetRejected(
                f"{name}: {where} has a field longer than {csv.field_size_limit():,} characters; is a quote left open?"
            ) from exc
        raise DatasetRejected(f"{name}: {where} could not be read as CSV ({exc}).") from exc
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetRejected(f"{name}: the gzip data is corrupt or truncated ({exc}).") from exc
    finally:
        text.detach()
    if header is None:
        raise DatasetRejected(f"{name}: the file is empty.")
    if rows == 0:
        raise DatasetRejected(f"{name}: the file has a header row but no data rows.")
    _check_rows(rows, name, organization)
    if short:
        allowed = int(rows * short_row_tolerance())
        if short > allowed:
            r, line, n = first_short
            raise DatasetRejected(
                f"{name}: {short:,} rows have fewer fields than the header's {width} columns (first: row {r:,}, "
                f"line {line:,}, with {n} fields); at most {short_row_tolerance():.0%} of rows ({allowed:,}) may be short."
            )
    info = UploadInfo(
        kind=kind,
        display_name=name,
        size=size,
        header=header,
        row_count=rows,
        encoding=encoding,
        delimiter=delimiter,
        short_rows=short,
        decompressed_bytes=raw.count,
    )
    if short:
        info.notes.append(f"{short:,} short rows were padded with missing values.")
    return info


def _check_rows(rows: int, name: str, organization) -> None:
    if rows > organization.max_rows:
        raise DatasetRejected(
            f"{name}: the file has {rows:,} data rows; this organization's limit is {organization.max_rows:,} rows."
        )


def _validate_xlsx(fileobj, *, name, size, cap, organization) -> UploadInfo:
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    if not head.startswith(b"PK\x03\x04"):
        if not head.strip():
            raise DatasetRejected(f"{name}: the file is empty.")
        raise DatasetRejected(f"{name}: this is not an Excel .xlsx workbook.")
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
            declared = sum(m.file_size for m in members)
            if "xl/workbook.xml" not in {m.filename for m in members}:
                raise DatasetRejected(f"{name}: this ZIP archive is not an Excel .xlsx workbook.")
    except zipfile.BadZipFile as exc:
        raise DatasetRejected(f"{name}: the workbook is damaged ({exc}).") from exc
    if declared > cap:
        raise DatasetRejected(
            f"{name}: decompressed, the workbook is larger than {cap:,} bytes ({decompression_factor()} × this "
            f"organization's upload limit); it was rejected without being expanded."
        )
    rows = 0
    header = None
    sheet_title = ""
    # Cells sit in fixed columns, so a shorter row is only empty trailing cells (missing values).
    for row in iter_xlsx_rows(fileobj, name):
        if header is None:
            if isinstance(row, str):
                sheet_title = row
                continue
            header = _check_header(row, name, organization)
            width = len(header)
            continue
        rows += 1
        if len(row) > width:
            col = next(i for i, v in enumerate(row[width:], start=width + 1) if v)
            raise DatasetRejected(
                f"{name}: row {rows:,} has a value in column {col}, beyond the header's {width} columns."
            )
    if header is None:
        raise DatasetRejected(f"{name}: the first worksheet is empty.")
    if rows == 0:
        raise DatasetRejected(f"{name}: the worksheet has a header row but no data rows.")
    _check_rows(rows, name, organization)
    return UploadInfo(
        kind="xlsx",
        display_name=name,
        size=size,
        header=header,
        row_count=rows,
        sheet=sheet_title,
        decompressed_bytes=declared,
    )


def xlsx_cell_text(value) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def iter_xlsx_rows(fileobj, name: str):
    """Yield the first worksheet's title, then its non-blank rows as lists of strings (streaming)."""
    import openpyxl

    fileobj.seek(0)
    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for damaged files
        raise DatasetRejected(f"{name}: the workbook could not be opened ({type(exc).__name__}).") from exc
    try:
        sheet = workbook.worksheets[0]
        yield sheet.title
        for values in sheet.iter_rows(values_only=True):
            row = [xlsx_cell_text(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            if row:
                yield row
    finally:
        workbook.close()
