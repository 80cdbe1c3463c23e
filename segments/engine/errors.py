"""Errors whose message is meant for people: the one base class every layer's expected failures share.

`UserFacingError` is Django-free so the engine can raise it; datasets, exports, customer filters, analysis
settings and jobs subclass it. Code that shows an error (a page, the API's one error format, a job's failure
message, a command's exit) tests `isinstance(exc, UserFacingError)` and shows `str(exc)` as it is; `field`,
when set, names the form field or API parameter at fault so the message can stand beside it.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """A request or input that cannot be carried out; the message says what and where (file, row, column,
    limit). `field` optionally names the input field it concerns."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.others: list[UserFacingError] = []

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, errors: list[UserFacingError]) -> UserFacingError:
        """One error standing for several (each with its field): its message is the first one's, and `details`
        lists them all, so a form or an API answer can mark every field at fault at once."""
        first = cls(errors[0].message, field=errors[0].field)
        first.others = list(errors[1:])
        return first

    def describe(self) -> str:
        """Every message in one line, each after the field it concerns: "ltv_min: Enter a number."."""
        return " ".join(
            f"{field}: {message}" if field != "non_field_errors" else message
            for field, messages in self.details.items()
            for message in messages
        )

    @property
    def details(self) -> dict[str, list[str]]:
        """{field: [messages]} ("non_field_errors" for those without a field)."""
        out: dict[str, list[str]] = {}
        for error in (self, *self.others):
            out.setdefault(error.field or "non_field_errors", []).append(error.message)
        return out


class EngineError(UserFacingError):
    """A problem with the engine's input or configuration.

    Messages name the column, row or limit involved, e.g.
    "column 'signup_date': 412 values could not be parsed as dates (e.g. row 17: '31/31/2024')".
    """
