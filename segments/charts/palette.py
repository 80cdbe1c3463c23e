"""The segment palette: the colour schemes an analysis can choose, and the colour of each segment in a scheme.

The one definition used by the analysis pages (Plotly figures, profile cards) and by the reports (the PDF's
matplotlib charts and colour dots), so a segment has the same colour wherever a user sees it. Colours are
Plotly's qualitative palettes written as "#rrggbb" (matplotlib and CSS read that; some palettes are stored in
Plotly as "rgb(r, g, b)").
"""

from __future__ import annotations

# Plotly's qualitative palettes offered for an analysis's charts (name -> label).
COLOR_SCHEMES = {
    "Plotly": "Plotly (default)",
    "D3": "D3",
    "G10": "G10",
    "T10": "Tableau 10",
    "Set2": "Set 2 (soft)",
    "Dark2": "Dark 2",
    "Bold": "Bold",
    "Vivid": "Vivid",
    "Safe": "Safe (colour-blind friendly)",
    "Pastel": "Pastel",
}
DEFAULT_COLOR_SCHEME = "Plotly"
# Customers no segment took (DBSCAN noise, segment -1): grey in every scheme.
NOISE_COLOR = "#adb5bd"


def palette(scheme: str) -> list[str]:
    """The scheme's colours in order, as "#rrggbb"; a scheme that is not offered reads as the default one."""
    from plotly.colors import qualitative

    name = scheme if scheme in COLOR_SCHEMES else DEFAULT_COLOR_SCHEME
    return [_hex(c) for c in getattr(qualitative, name)]


def segment_color(segment: int, scheme: str) -> str:
    """Segment 0 takes the scheme's first colour, 1 the second... (round again past the end); noise is grey."""
    if segment < 0:
        return NOISE_COLOR
    colors = palette(scheme)
    return colors[segment % len(colors)]


def segment_colors(profiles: list[dict], scheme: str) -> dict[int, str]:
    """{segment: colour} for every profile of an analysis."""
    return {p["segment"]: segment_color(p["segment"], scheme) for p in profiles}


def _hex(color: str) -> str:
    if color.startswith("rgb"):
        r, g, b = (int(float(x)) for x in color[color.index("(") + 1 : color.index(")")].split(",")[:3])
        return f"#{r:02x}{g:02x}{b:02x}"
    return color
