"""The label-placement solver (segments/charts/labels.py) on its own: each bubble's name goes where it overlaps no
other name and no bubble, stays inside the plot, steers clear of fixed captions, and the answer depends only on
the input, also for degenerate input (no point, one point, points on top of each other)."""

import pytest

from segments.charts.labels import (
    BUBBLE_PLOT_PX,
    LABEL_POSITIONS,
    bubble_label_positions,
    label_box,
    label_size,
    overlap,
)

PLOT = (0, 0, *BUBBLE_PLOT_PX)


def _pixels(x, y, x_range, y_range, plot_px=BUBBLE_PLOT_PX):
    width, height = plot_px
    return (
        (x - x_range[0]) / (x_range[1] - x_range[0]) * width,
        (y_range[1] - y) / (y_range[1] - y_range[0]) * height,
    )


def _layout(points, x_range, y_range, positions, plot_px=BUBBLE_PLOT_PX):
    """(label boxes, bubble boxes) in pixels, worked out here from the chosen positions."""
    labels, bubbles = [], []
    for (x, y, d, label), position in zip(points, positions, strict=True):
        cx, cy = _pixels(x, y, x_range, y_range, plot_px)
        lines = label.split("<br>")
        labels.append(label_box(position, cx, cy, d / 2, max(map(len, lines)) * 6.4, 14 * len(lines)))
        bubbles.append((cx - d / 2, cy - d / 2, cx + d / 2, cy + d / 2))
    return labels, bubbles


def _inside(box, frame=PLOT):
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


def _overlapping_pairs(boxes):
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j and overlap(a, b, pad=0) > 0]


SEGMENTS = [
    (70, 100, 60, "Dormant Budget (high<br>support tickets)"),
    (95, 50, 55, "Dormant Budget (old<br>last purchase date)"),
    (3, 4100, 40, "Engaged High-Value"),
    (15, 1400, 45, "Steady High-Value"),
    (15, 700, 45, "New Budget"),
]
SEGMENT_RANGES = ((-2, 112), (-1500, 6000))


def test_bubble_labels_are_placed_clear_of_each_other_and_the_edges():
    points = SEGMENTS
    x_range, y_range = SEGMENT_RANGES
    size = (420, 270)
    positions = bubble_label_positions(points, x_range, y_range, plot_px=size)
    boxes, _ = _layout(points, x_range, y_range, positions, size)
    for (*_, label), position, box in zip(points, positions, boxes, strict=True):
        assert box[0] >= 0 and box[2] <= size[0] and box[1] >= 0, (label, position, box)
    assert _overlapping_pairs(boxes) == []


def test_no_label_covers_a_bubble_of_a_crowded_chart():
    positions = bubble_label_positions(SEGMENTS, *SEGMENT_RANGES)
    labels, bubbles = _layout(SEGMENTS, *SEGMENT_RANGES, positions)
    assert [(i, j) for i, a in enumerate(labels) for j, b in enumerate(bubbles) if overlap(a, b, pad=0) > 0] == []


def test_a_row_of_neighbouring_bubbles_spreads_its_labels_above_and_below():
    row = [(10 + 20 * i, 50, 30, f"Segment {i} name") for i in range(5)]
    positions = bubble_label_positions(row, (0, 100), (0, 100))
    labels, bubbles = _layout(row, (0, 100), (0, 100), positions)
    assert _overlapping_pairs(labels) == []
    assert all(overlap(a, b, pad=0) == 0 for a in labels for b in bubbles)
    assert all(_inside(box) for box in labels)
    # Every name is about as wide as the step between bubbles: side by side above them they would touch.
    assert {p.split()[0] for p in positions} == {"top", "bottom"}


def test_a_label_steers_clear_of_a_fixed_caption():
    point = [(10, 80, 20, "Protect me")]  # just under the top-left corner: its name would go above it
    assert bubble_label_positions(point, (0, 100), (0, 100)) == ["top center"]
    caption = (1, 100, "left", "top", 150, 30)  # a quadrant caption in that corner
    (position,) = bubble_label_positions(point, (0, 100), (0, 100), obstacles=[caption])
    (box,), _ = _layout(point, (0, 100), (0, 100), [position])
    cx, cy = _pixels(1, 100, (0, 100), (0, 100))
    assert overlap(box, (cx, cy, cx + 150, cy + 30), pad=0) == 0 and _inside(box)


def test_the_answer_depends_only_on_the_points_not_on_their_order_or_on_earlier_calls():
    first = bubble_label_positions(SEGMENTS, *SEGMENT_RANGES)
    assert bubble_label_positions(SEGMENTS, *SEGMENT_RANGES) == first
    reversed_answer = bubble_label_positions(SEGMENTS[::-1], *SEGMENT_RANGES)
    assert reversed_answer[::-1] == first
    assert all(p in LABEL_POSITIONS for p in first)


def test_no_points_get_no_labels():
    assert bubble_label_positions([], (0, 1), (0, 1)) == []


def test_a_single_bubble_takes_the_first_choice_when_it_fits():
    assert bubble_label_positions([(50, 50, 40, "Only segment")], (0, 100), (0, 100)) == [LABEL_POSITIONS[0]]


@pytest.mark.parametrize("x, y", [(50, 99), (50, 1), (0, 50), (100, 50), (0, 0), (100, 0), (0, 100), (100, 100)])
def test_a_bubble_at_the_plots_edge_keeps_its_label_inside(x, y):
    point = [(x, y, 12, "Edge case segment")]
    x_range, y_range = (-5, 105), (-10, 110)
    positions = bubble_label_positions(point, x_range, y_range)
    (box,), _ = _layout(point, x_range, y_range, positions)
    assert _inside(box), (positions, box)


@pytest.mark.parametrize("n", [2, 3])
def test_bubbles_on_top_of_each_other_get_labels_that_do_not_overlap(n):
    points = [(50, 50, 40, f"Same place {chr(65 + i)}") for i in range(n)]
    positions = bubble_label_positions(points, (0, 100), (0, 100))
    labels, bubbles = _layout(points, (0, 100), (0, 100), positions)
    assert len(set(positions)) == n
    assert _overlapping_pairs(labels) == []
    assert all(_inside(box) and overlap(box, bubbles[0], pad=0) == 0 for box in labels)


def test_identical_points_with_identical_labels_still_get_different_places():
    points = [(50, 50, 40, "Twin")] * 2
    positions = bubble_label_positions(points, (0, 100), (0, 100))
    labels, _ = _layout(points, (0, 100), (0, 100), positions)
    assert positions[0] != positions[1] and _overlapping_pairs(labels) == []


def test_label_size_counts_the_longest_line_and_the_number_of_lines():
    assert label_size("abcd") == (4 * 6.4, 14)
    assert label_size("ab<br>abcdef") == (6 * 6.4, 28)


def test_label_boxes_sit_outside_their_bubble():
    w, h = label_size("Segment")
    bubble = (100 - 20, 100 - 20, 100 + 20, 100 + 20)
    for position in LABEL_POSITIONS:
        box = label_box(position, 100, 100, 20, w, h)
        assert box[2] - box[0] == pytest.approx(w) and box[3] - box[1] == pytest.approx(h)
        if position.startswith("top"):
            assert box[3] < bubble[1]
        elif position.startswith("bottom"):
            assert box[1] > bubble[3]
        else:
            assert box[0] > bubble[2] or box[2] < bubble[0]


# Six segments of a real telecom table: similar risk and value, long names, bubbles that touch each other.
CROWDED = [
    (8.0, 160, 62, "Steady Mid-Value (high<br>voice mail plan)"),
    (11.0, 140, 52, "Steady Mid-Value (high<br>total eve minutes)"),
    (16.0, 175, 50, "Steady Mid-Value (high<br>total night minutes)"),
    (9.5, 150, 50, "Steady Mid-Value (low<br>total night charge)"),
    (12.0, 120, 50, "Steady Mid-Value (low<br>total eve charge)"),
    (26.0, 150, 48, "Steady Mid-Value (low<br>total intl charge)"),
]
CROWDED_RANGES = ((-4, 37), (-16, 280))


def test_crowded_bubbles_send_labels_out_as_callouts_that_overlap_nothing():
    positions = bubble_label_positions(CROWDED, *CROWDED_RANGES)
    labels, bubbles = _layout(CROWDED, *CROWDED_RANGES, positions)
    assert any(isinstance(p, tuple) for p in positions), "nothing beside these bubbles is free"
    assert _overlapping_pairs(labels) == []
    assert [(i, j) for i, a in enumerate(labels) for j, b in enumerate(bubbles) if overlap(a, b, pad=0) > 0] == []
    assert all(_inside(box) for box in labels)


def test_a_callout_box_is_centred_on_its_offset():
    assert label_box((30.0, -20.0), 100, 100, 10, 40, 14) == (110.0, 73.0, 150.0, 87.0)


def test_money_axis_ticks_in_whole_amounts_carry_no_cents():
    from segments.charts.common import money_ticks

    assert money_ticks(258)["ticktext"] == ["$0", "$100", "$200"]
    assert money_ticks(0.9)["ticktext"][:2] == ["$0.00", "$0.20"]
