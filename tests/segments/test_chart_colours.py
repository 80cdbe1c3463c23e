"""Segment colours: one palette (segments/charts/palette.py) for the analysis pages and the reports, so a segment,
including the customers no segment took (DBSCAN noise, segment -1), has the same colour wherever a user sees it."""

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from segments.charts.palette import (
    COLOR_SCHEMES,
    DEFAULT_COLOR_SCHEME,
    NOISE_COLOR,
    palette,
    segment_color,
    segment_colors,
)

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _figures(html):
    return {
        name: json.loads(body)
        for name, body in re.findall(r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', html, re.S)
    }


def _rgb(colour: str) -> tuple[int, int, int]:
    from plotly.colors import hex_to_rgb, unlabel_rgb

    return tuple(int(v) for v in (unlabel_rgb(colour) if colour.startswith("rgb") else hex_to_rgb(colour)))


@pytest.mark.django_db
def test_a_segment_has_the_same_colour_on_the_pages_and_in_the_report(people, client_for, finished_analysis):
    from exports.report import report_context
    from segments.selectors import analysis_profiles

    analysis = finished_analysis(people.acme, people.alice, algorithm="dbscan", n_clusters=None)
    analysis.color_scheme = "Safe"  # stored by Plotly as "rgb(r, g, b)": pages and report once wrote it differently
    analysis.save(update_fields=["color_scheme"])
    segments = {p["name"]: p["segment"] for p in analysis.profiles}
    assert -1 in segments.values() and len(segments) >= 3  # noise and at least two segments

    client = client_for(people.vera, people.acme)
    viz = _figures(client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode())
    pie = viz["segment-sizes"]["data"][0]
    page = {segments[name]: colour for name, colour in zip(pie["labels"], pie["marker"]["colors"], strict=True)}
    assert set(page) == set(segments.values())
    bubbles = {segments[t["name"]]: t["marker"]["color"] for t in viz["ltv-churn"]["data"]}
    assert bubbles == {s: c for s, c in page.items() if s in bubbles}
    cards = client.get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    for segment, colour in page.items():
        assert f'id="segment-{segment}" data-testid="segment-card" style="border-top: 4px solid {colour}"' in cards

    report = report_context(
        profiles=analysis_profiles(analysis=analysis),
        metrics=analysis.metrics,
        organization_name=people.acme.name,
        analysis_name=analysis.name,
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        color_scheme=analysis.color_scheme,
    )
    assert {row["segment"]: row["colour"] for row in report["overview_rows"]} == page
    assert {s["segment"]: s["colour"] for s in report["segments"]} == page
    sizes_svg = base64.b64decode(report["charts"]["sizes"].split(",", 1)[1]).decode().lower()
    assert all(colour.lower() in sizes_svg for colour in page.values())
    assert page[-1] == NOISE_COLOR


@pytest.mark.parametrize("scheme", list(COLOR_SCHEMES))
def test_every_offered_scheme_is_plotlys_palette_written_as_hex(scheme):
    from plotly.colors import qualitative

    colours = palette(scheme)
    assert all(HEX.match(c) for c in colours), colours
    assert [_rgb(c) for c in colours] == [_rgb(c) for c in getattr(qualitative, scheme)]
    assert len(set(colours)) == len(colours) and NOISE_COLOR not in colours


def test_segments_take_the_schemes_colours_in_order_and_start_again_past_the_end():
    colours = palette("Dark2")
    assert [segment_color(s, "Dark2") for s in range(len(colours))] == colours
    assert segment_color(len(colours), "Dark2") == colours[0]
    assert segment_color(len(colours) + 2, "Dark2") == colours[2]


def test_unclustered_customers_are_grey_in_every_scheme():
    assert {segment_color(-1, scheme) for scheme in COLOR_SCHEMES} == {NOISE_COLOR}


def test_a_scheme_that_is_not_offered_reads_as_the_default():
    assert palette("Alphabet") == palette(DEFAULT_COLOR_SCHEME)  # a Plotly palette, but not one we offer
    assert palette("Nonexistent") == palette(DEFAULT_COLOR_SCHEME)


def test_segment_colors_maps_every_profile_to_its_segments_colour():
    profiles = [{"segment": 2}, {"segment": -1}, {"segment": 0}, {"segment": 1}]
    assert segment_colors(profiles, "Set2") == {
        -1: NOISE_COLOR,
        0: palette("Set2")[0],
        1: palette("Set2")[1],
        2: palette("Set2")[2],
    }
