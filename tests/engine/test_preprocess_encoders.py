"""One encoder per role: the training rows, a batch and a single API record are encoded by the same rules."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from segments.engine import AnalysisConfig, generate_synthetic
from segments.engine.preprocess import Preprocessor
from segments.engine.preprocess.categorical import OTHER_LEVEL, CategoricalEncoder
from segments.engine.preprocess.dates import DateEncoder
from segments.engine.preprocess.numeric import NumericEncoder
from segments.engine.preprocess.text import TextEncoder, WordAnalyzer
from segments.engine.roles import infer_behaviour_roles, infer_roles

REFERENCE = np.datetime64("2026-06-30", "ns")


@pytest.fixture(scope="module")
def frame():
    return generate_synthetic(800, seed=8)


def _encoders():
    return [
        NumericEncoder("total_spend", "monetary"),
        NumericEncoder("sessions_per_month"),
        DateEncoder("signup_date", REFERENCE),
        CategoricalEncoder("device"),  # 3 levels: one-hot
        CategoricalEncoder("city", top_levels=5),  # 200 levels: top 5 + other
        CategoricalEncoder("plan"),  # 2 levels: one integer code
        TextEncoder("review", nlp=True, tfidf_components=3),
    ]


@pytest.mark.parametrize("encoder", _encoders(), ids=lambda e: f"{e.role}:{e.column}")
def test_a_few_records_are_encoded_as_a_batch_would_encode_them(frame, encoder):
    frame = frame.assign(plan=np.where(np.arange(len(frame)) % 3 == 0, "pro", "basic"))
    encoder.fit(encoder.read(frame[encoder.column], False, None))
    records = [*frame[encoder.column].iloc[:5].tolist(), None]  # a missing value too
    if encoder.role == "categorical":
        records.append("a level never seen")
    batch = encoder.transform(encoder.read(pd.Series(records, dtype=object), True, None), observed=True)
    small = encoder.transform(encoder.read_small(records), observed=True)
    assert len(batch.features) == len(encoder.features_) == len(encoder.weights_)
    for name, a, b in zip(encoder.features_, batch.features, small.features, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert batch.profile.keys() == small.profile.keys()
    for name in batch.profile:
        np.testing.assert_array_equal(batch.profile[name], small.profile[name], err_msg=name)


def test_an_unseen_level_is_other_among_top_levels_and_the_mode_for_a_code(frame):
    city = CategoricalEncoder("city", top_levels=5).fit(CategoricalEncoder("city").read(frame["city"], False, None))
    assert city.levels_[-1] == OTHER_LEVEL
    other = city.transform(city.read_small(["Atlantis"])).features
    assert [f[0] for f in other] == [0.0] * 5 + [1.0]
    plan = CategoricalEncoder("plan").fit(CategoricalEncoder("plan").read_small(["pro", "basic", "basic"]))
    assert plan.levels_ == ["basic", "pro"] and plan.mode_ == "basic"
    assert plan.transform(plan.read_small(["enterprise", "pro"])).features[0].tolist() == [0.0, 1.0]


def test_a_text_s_training_features_are_those_a_new_record_with_the_same_text_gets(frame):
    encoder = TextEncoder("review", nlp=True)
    training = encoder.read(frame["review"], False, None)
    encoder.fit(training)  # computes the distinct texts' features once, for the training rows
    assert training.features is not None
    again = encoder.read(frame["review"], False, None)  # a new batch: features computed by transform
    assert again.features is None
    fitted, fresh = encoder.transform(training), encoder.transform(again)
    assert any(name.endswith("(topic 1)") for name in encoder.features_)
    for name, a, b in zip(encoder.features_, fitted.features, fresh.features, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_the_topics_word_analysis_is_tfidf_s_default_analysis(frame):
    texts = [
        *frame["review"].dropna().head(300),
        "Zürich CAFÉ: très-bien!! (ordered twice)",
        "ΣΟΦΟΣ ΛΟΓΟΣ mixed with English words",
        "tabs\tand\nnew lines,commas;and-dashes",
        "a b cd e2e x_y 12 345",
        "",
    ]
    default = TfidfVectorizer(stop_words="english").build_analyzer()
    memoised = WordAnalyzer()
    for text in texts * 2:  # the second time from the memo
        assert memoised(text) == default(text), text


def test_a_saved_text_encoder_keeps_no_memo_and_encodes_the_same(frame):
    encoder = TextEncoder("review", nlp=True)
    encoder.fit(encoder.read(frame["review"], False, None))
    assert encoder.tfidf_.analyzer._memo == {}  # forgotten after fitting
    encoder.transform(encoder.read(frame["review"], False, None))
    assert encoder.tfidf_.analyzer._memo  # a batch fills it again
    loaded = pickle.loads(pickle.dumps(encoder))  # noqa: S301 (our own object)
    assert loaded.tfidf_.analyzer._memo == {}
    records = frame["review"].head(20).tolist()
    for a, b in zip(
        encoder.transform(encoder.read_small(records)).features,
        loaded.transform(loaded.read_small(records)).features,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_the_preprocessor_applies_to_the_training_rows_exactly_what_it_learned(frame):
    """fit_transform encodes each column once; applying the fitted preprocessor to the same rows gives the same
    matrix, readable values and behaviour, bit for bit."""
    config = AnalysisConfig()
    roles = infer_roles(frame, config)
    behaviour = infer_behaviour_roles(frame, roles, config)
    pre = Preprocessor(config)
    X, profile, beh = pre.fit_transform(frame, roles, behaviour, [])
    X2, profile2, beh2 = pre.transform(frame, strict=False, observed=True)
    np.testing.assert_array_equal(X, X2)
    pd.testing.assert_frame_equal(profile, profile2)
    assert beh.keys() == beh2.keys() == {"recency", "frequency", "tenure", "monetary"}
    for key in beh:
        np.testing.assert_array_equal(beh[key], beh2[key])
    assert [e.role for e in pre.encoders_] == [roles[e.column] for e in pre.encoders_]
    assert pre.feature_names_ == [name for e in pre.encoders_ for name in e.features_]
    # standardised and weighted: a behaviour column carries one unit of variance
    j = pre.feature_names_.index("sessions_per_month")
    assert X[:, j].std() == pytest.approx(1.0, rel=1e-4)
