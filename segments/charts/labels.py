"""Where each bubble's label goes: beside its bubble, overlapping nothing (other bubbles, other labels, the
plot's edges and fixed boxes such as quadrant captions). Pure geometry, no Plotly and no Django.

Positions are chosen on the server for a plot area of about `BUBBLE_PLOT_PX` pixels (the narrowest these charts
get on a laptop; wider screens only add room between the bubbles), with the text size of the labels.
"""

from __future__ import annotations

BUBBLE_PLOT_PX = (420, 270)
LABEL_CHAR_PX, LABEL_LINE_PX = 6.4, 14
# Plotly `textposition` values tried, in order of preference.
LABEL_POSITIONS = ("top center", "top right", "top left", "middle right", "middle left", "bottom center")


def label_size(label: str) -> tuple[float, float]:
    """(width, height) in pixels of a label whose lines are separated by <br>."""
    lines = label.split("<br>")
    return max(len(line) for line in lines) * LABEL_CHAR_PX, len(lines) * LABEL_LINE_PX


def label_box(position: str, cx: float, cy: float, r: float, w: float, h: float) -> tuple[float, ...]:
    """(x0, y0, x1, y1) in pixels (y down) of a label at a Plotly text position around a marker."""
    vertical, horizontal = position.split()
    gap = 3
    if vertical == "top":
        y0, y1 = cy - r - gap - h, cy - r - gap
    elif vertical == "bottom":
        y0, y1 = cy + r + gap, cy + r + gap + h
    else:
        y0, y1 = cy - h / 2, cy + h / 2
    if horizontal == "center":
        x0, x1 = cx - w / 2, cx + w / 2
    elif horizontal == "right":
        x0 = cx + (r + gap if vertical == "middle" else 0)
        x1 = x0 + w
    else:
        x1 = cx - (r + gap if vertical == "middle" else 0)
        x0 = x1 - w
    return x0, y0, x1, y1


def overlap(a, b, pad: float = 4) -> float:
    """Area shared by two boxes, each grown by `pad` pixels (labels keep a little air between them)."""
    width = min(a[2], b[2]) - max(a[0], b[0]) + 2 * pad
    height = min(a[3], b[3]) - max(a[1], b[1]) + 2 * pad
    return max(0.0, width) * max(0.0, height)


def bubble_label_positions(points, x_range, y_range, obstacles=(), plot_px=BUBBLE_PLOT_PX) -> list[str]:
    """A Plotly `textposition` per point [(x, y, diameter_px, label)], so that labels overlap neither the
    bubbles, each other, the plot's edges nor the `obstacles`: annotations as (x, y, xanchor, yanchor,
    width_px, height_px) in data coordinates."""
    width, height = plot_px

    def px(x, y):
        return (
            (x - x_range[0]) / (x_range[1] - x_range[0]) * width,
            (y_range[1] - y) / (y_range[1] - y_range[0]) * height,
        )

    centres = [(*px(x, y), d / 2) for x, y, d, _ in points]
    fixed = [(cx - r, cy - r, cx + r, cy + r) for cx, cy, r in centres]
    for x, y, xanchor, yanchor, w, h in obstacles:
        ox, oy = px(x, y)
        x0 = ox - (w if xanchor == "right" else w / 2 if xanchor == "center" else 0)
        y0 = oy - (h if yanchor == "bottom" else h / 2 if yanchor == "middle" else 0)
        fixed.append((x0, y0, x0 + w, y0 + h))
    sizes = [label_size(label) for *_, label in points]

    def box(i, position):
        cx, cy, r = centres[i]
        return label_box(position, cx, cy, r, *sizes[i])

    def cost(i, position, placed):
        b = box(i, position)
        w, h = sizes[i]
        others = [f for j, f in enumerate(fixed) if j != i] + [box(j, pos) for j, pos in placed.items() if j != i]
        outside = w * h - overlap(b, (0, 0, width, height), pad=0)
        # leaving the plot is worst; otherwise prefer the earlier positions
        return sum(overlap(b, o) for o in others) + 4 * outside + LABEL_POSITIONS.index(position)

    placed: dict[int, str] = {}
    # Biggest bubbles first (they have the fewest good places), then a few passes that move a label when
    # another place has become better now that every label is down.
    order = sorted(range(len(points)), key=lambda i: -points[i][2])
    for _ in range(4):
        changed = False
        for i in order:
            best = min(LABEL_POSITIONS, key=lambda pos: cost(i, pos, placed))
            changed |= placed.get(i) != best
            placed[i] = best
        if not changed:
            break
    return [placed[i] for i in range(len(points))]
