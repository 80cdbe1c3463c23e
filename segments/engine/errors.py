"""The one exception the engine raises for bad input or unusable data."""


class EngineError(Exception):
    """A problem with the input or configuration, with a message fit for the user.

    Messages name the column, row or limit involved, e.g.
    "column 'signup_date': 412 values could not be parsed as dates (e.g. row 17: '31/31/2024')".
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
