"""Where each bubble's label goes: beside its bubble, overlapping nothing (other bubbles, other labels, the
plot's edges and fixed boxes such as quadrant captions). Pure geometry, no Plotly and no Django.

Positions are chosen on the server for a plot area of about `BUBBLE_PLOT_PX` pixels (the narrowest these charts
get on a laptop; wider screens only add room between the bubbles), with the text size of the labels.

A label goes right beside its bubble (a Plotly `textposition`) when one of those places is free; when bubbles
crowd each other (segments with similar risk and value, common on real tables), it goes a little further out as a
callout, `(dx, dy)` pixels from the bubble's centre to the label's centre, drawn with a thin leader line.
"""

from __future__ import annotations

BUBBLE_PLOT_PX = (420, 270)
LABEL_CHAR_PX, LABEL_LINE_PX = 6.4, 14
# Plotly `textposition` values tried, in order of preference.
LABEL_POSITIONS = ("top center", "top right", "top left", "middle right", "middle left", "bottom center")
# Callouts: how far beyond the bubble's edge (pixels) and in which directions (degrees, 0 = right, 90 = up).
CALLOUT_GAPS = (16, 36, 60, 90)
CALLOUT_ANGLES = tuple(range(90, 450, 30))
# A callout costs more than any place beside the bubble, and more the further out it is.
CALLOUT_COST = 10


def callout_offset(angle: float, gap: float, r: float, w: float, h: float) -> tuple[float, float]:
    """(dx, dy), y down, from a bubble's centre to the centre of a w×h label `gap` pixels beyond its edge."""
    import math

    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    reach = r + gap + abs(cos) * w / 2 + abs(sin) * h / 2
    return round(cos * reach, 1), round(-sin * reach, 1)


def label_size(label: str) -> tuple[float, float]:
    """(width, height) in pixels of a label whose lines are separated by <br>."""
    lines = label.split("<br>")
    return max(len(line) for line in lines) * LABEL_CHAR_PX, len(lines) * LABEL_LINE_PX


def label_box(position, cx: float, cy: float, r: float, w: float, h: float) -> tuple[float, ...]:
    """(x0, y0, x1, y1) in pixels (y down) of a label at a Plotly text position around a marker, or of a
    callout centred `position` = (dx, dy) pixels from the marker's centre."""
    if isinstance(position, tuple):
        dx, dy = position
        return cx + dx - w / 2, cy + dy - h / 2, cx + dx + w / 2, cy + dy + h / 2
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


def _crossings(start, end, boxes) -> int:
    """How many of `boxes` the straight line from `start` to `end` passes through (sampled every few pixels)."""
    steps = 12
    hit = set()
    for k in range(1, steps):
        x = start[0] + (end[0] - start[0]) * k / steps
        y = start[1] + (end[1] - start[1]) * k / steps
        hit.update(i for i, b in enumerate(boxes) if b[0] <= x <= b[2] and b[1] <= y <= b[3])
    return len(hit)


def bubble_label_positions(points, x_range, y_range, obstacles=(), plot_px=BUBBLE_PLOT_PX) -> list:
    """A place per point [(x, y, diameter_px, label)]: a Plotly `textposition` beside the bubble, or a callout
    `(dx, dy)` when nothing beside it is free, so that labels overlap neither the bubbles, each other, the
    plot's edges nor the `obstacles`: annotations as (x, y, xanchor, yanchor, width_px, height_px) in data
    coordinates."""
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

    def candidates(i):
        r = centres[i][2]
        w, h = sizes[i]
        callouts = [(gap, callout_offset(angle, gap, r, w, h)) for gap in CALLOUT_GAPS for angle in CALLOUT_ANGLES]
        return [(rank, pos) for rank, pos in enumerate(LABEL_POSITIONS)] + [
            (CALLOUT_COST + gap / 6 + k / 100, pos) for k, (gap, pos) in enumerate(callouts)
        ]

    def cost(i, rank, position, placed):
        b = box(i, position)
        w, h = sizes[i]
        others = [f for j, f in enumerate(fixed) if j != i] + [box(j, pos) for j, pos in placed.items() if j != i]
        outside = w * h - overlap(b, (0, 0, width, height), pad=0)
        # Real overlap weighs heavily; the air around labels (padding) only breaks ties, so that a label
        # moves out to a callout for a collision, not for a near miss.
        total = sum(50 * overlap(b, o, pad=0) + 0.05 * overlap(b, o) for o in others) + 200 * outside + rank
        if isinstance(position, tuple):
            # a leader line that runs through another bubble or label reads as pointing at it
            cx, cy, _ = centres[i]
            total += 400 * _crossings((cx, cy), (cx + position[0], cy + position[1]), others)
        # leaving the plot is worst; otherwise prefer the earlier (nearer) places
        return total

    placed: dict = {}
    # Biggest bubbles first (they have the fewest good places), then a few passes that move a label when
    # another place has become better now that every label is down. First beside the bubbles only; then the
    # labels that still collide (or leave the plot) may move out to a callout.
    order = sorted(range(len(points)), key=lambda i: -points[i][2])
    beside = [(rank, pos) for rank, pos in enumerate(LABEL_POSITIONS)]
    for _ in range(4):
        changed = False
        for i in order:
            best = min(beside, key=lambda c: cost(i, c[0], c[1], placed))[1]
            changed |= placed.get(i) != best
            placed[i] = best
        if not changed:
            break
    for _ in range(3):
        crowded = [i for i in order if cost(i, 0, placed[i], placed) >= 50]
        if not crowded:
            break
        for i in crowded:
            placed[i] = min(candidates(i), key=lambda c: cost(i, c[0], c[1], placed))[1]
    return [placed[i] for i in range(len(points))]
