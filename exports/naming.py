"""Safe, readable download names: ASCII only, no path separators, no quotes."""

from datetime import datetime

from django.utils.text import slugify


def export_file_name(
    *, organization_name: str, analysis_name: str, format: str, segment: int | None = None, when: datetime | None = None
) -> str:
    parts = [slugify(organization_name)[:40] or "organization", slugify(analysis_name)[:60] or "analysis"]
    if format in ("csv", "xlsx"):
        parts.append("customers")
    elif format == "pdf":
        parts.append("report")
    else:
        parts.append("segments")
    if segment is not None:
        parts.append(f"segment-{int(segment)}")
    if when is not None:
        parts.append(when.strftime("%Y-%m-%d"))
    return "-".join(parts) + f".{format}"
