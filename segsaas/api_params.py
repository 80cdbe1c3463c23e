"""Query parameters of the API read strictly: a value the schema does not allow is a 400 in the one error format
(segsaas/api_errors.py), never ignored and never a 500. `query_int` for integer parameters (ids are 1 to 2**63 - 1,
what the database holds), `StrictPageSizeMixin` for a paginator's `page_size`."""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

MAX_ID = 2**63 - 1
# A page cursor is the server's own short token (base64 of the position and ordering); documented as at most this.
CURSOR_MAX_LENGTH = 200


def query_int(params, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    """The integer query parameter `name` (None when absent). Refuses a repeated or empty parameter, a value that
    is not a whole number, or one outside [minimum, maximum], naming the parameter."""
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise serializers.ValidationError({name: [f"Give {name} once; it was given {len(values)} times."]})
    raw = values[0].strip()
    if not raw.lstrip("-").isdigit() or len(raw) > 25:
        raise serializers.ValidationError({name: ["A valid integer is required."]})
    value = int(raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = (
            f"between {minimum:,} and {maximum:,}"
            if minimum is not None and maximum is not None
            else (f"at least {minimum:,}" if minimum is not None else f"at most {maximum:,}")
        )
        raise serializers.ValidationError({name: [f"Must be {bounds}; got {value:,}."]})
    return value


class StrictPageSizeMixin:
    """A paginator whose `page_size` parameter is refused (400) when it is not a whole number from 1 to
    `max_page_size`, instead of falling back to the default page size."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == getattr(self, "page_size_query_param", None) and self.max_page_size:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            if parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            if parameter["name"] == getattr(self, "cursor_query_param", None):
                parameter["schema"] = {"type": "string", "maxLength": CURSOR_MAX_LENGTH}
        return parameters

    def get_page_size(self, request):
        if self.page_size_query_param and self.page_size_query_param in request.query_params:
            size = query_int(request.query_params, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
            if size is not None:
                return size
        return self.page_size


def _json_types(field) -> tuple[type, ...] | None:
    """The JSON types a field accepts in a JSON body (None: no rule, the field checks its own input)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField):
        return (int,)
    if isinstance(field, (serializers.FloatField, serializers.DecimalField)):
        return (int, float)
    if isinstance(field, (serializers.CharField, serializers.ChoiceField)):
        return (str,)
    if isinstance(field, serializers.DictField):
        return (dict,)
    if isinstance(field, serializers.ListField):
        return (list,)
    return None


_TYPE_NAMES = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    dict: "an object",
    list: "a list",
}


class StrictJsonTypes:
    """Serializer mixin: in a JSON body each field takes exactly the JSON type the schema gives it, so `"nlp": 0`,
    `"name": 5` or `"dataset": "7"` are refused (400, naming the field) instead of being coerced. Form and multipart
    bodies (QueryDict: every value is text) are left to the fields' own parsing."""

    def to_internal_value(self, data):
        from django.http import QueryDict

        if isinstance(data, dict) and not isinstance(data, QueryDict):
            errors = {}
            for name, field in self.fields.items():
                if field.read_only or field.field_name not in data:
                    continue
                value = data[field.field_name]
                types = _json_types(field)
                if types is None or (value is None and field.allow_null):
                    continue
                if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                    errors[name] = [f"Expected {_TYPE_NAMES[types[-1]]}; got {type(value).__name__} {value!r}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictPageNumberPagination(StrictPageSizeMixin, PageNumberPagination):
    """The API's default pagination: `?page=` must be a whole number from 1 (given once); a page past the last is
    still DRF's 404 "Invalid page"."""

    def get_page_number(self, request, paginator):
        number = query_int(request.query_params, self.page_query_param, minimum=1, maximum=MAX_ID)
        return number if number is not None else 1
