"""Spreadsheet formula injection: a cell from uploaded data must never run as a formula.

Spreadsheets treat text starting with `=`, `+`, `-`, `@` (and, in some, a tab or carriage return) as a
formula: a customer id such as `=HYPERLINK("http://evil","click")` would run when the file is opened.
Such text gets a leading single quote (the OWASP recommendation), so it shows as text. A value that is
a plain number (`-42`, `+3.5`, `-1e3`) is left alone: it is harmless, and quoting it would corrupt data.
"""

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_dangerous(text: str) -> bool:
    return bool(text) and text.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value):
    """`value` as a spreadsheet would show it as typed: formulas quoted, everything else unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


def neutralise_array(array):
    """Vectorised `neutralise` for a pyarrow string array (the CSV streaming path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    starts = pc.match_substring_regex(array, r"^[=+\-@\t\r]")
    if not pc.any(starts).as_py():
        return array
    number = pc.match_substring_regex(array, r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
    danger = pc.and_kleene(starts, pc.invert(number))
    quoted = pc.binary_join_element_wise("'", array, "")
    return pc.if_else(pc.fill_null(danger, False), quoted, array)
