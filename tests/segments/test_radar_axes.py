"""Each segment's radar shows where that segment stands out, not only the features that drive the segmentation as
a whole: a segment defined by a feature of little overall importance still gets that feature as an axis."""

import types

from segments.charts.visualizations import _radar_features

FEATURES = [f"f{i}" for i in range(12)]


def _analysis():
    # importance falls from f0 to f11
    importance = [{"feature": f, "importance": 1 / (i + 1)} for i, f in enumerate(FEATURES)]
    return types.SimpleNamespace(metrics={"feature_importance": importance})


def test_a_segments_most_distinctive_features_are_among_its_radar_axes():
    z = [0.1] * 12
    z[10], z[11], z[9] = 2.4, -1.9, 1.5  # this segment stands out on three unimportant features
    axes = _radar_features(_analysis(), FEATURES, z)
    assert len(axes) == 7
    assert {"f9", "f10", "f11"} <= set(axes)
    assert axes[:4] == ["f0", "f1", "f2", "f3"]  # the rest are the most important, in order


def test_a_segment_that_stands_out_on_important_features_gets_the_top_features():
    z = [2.0, -1.5, 1.2] + [0.0] * 9
    assert _radar_features(_analysis(), FEATURES, z) == FEATURES[:7]
