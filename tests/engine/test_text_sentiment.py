"""The text encoder's sentiment is TextBlob's: the same polarity and subjectivity, text by text."""

import random

import numpy as np
import pandas as pd
import pytest
from textblob import TextBlob
from textblob import _text as pattern

from segments.engine import generate_synthetic
from segments.engine.preprocess.sentiment import VERIFIED_TEXTBLOB, PatternSentiment, textblob_version
from segments.engine.preprocess.text import TextEncoder

HANDWRITTEN = [
    # negations, intensifiers, modifiers
    "not good",
    "not bad",
    "never disappointed",
    "very good",
    "not very good",
    "really awful",
    "not at all bad",
    "really not good",
    "very very good",
    "extremely slow delivery",
    "a bit slow but quite friendly staff",
    "terribly good",
    "no no good",
    "never not good",
    "not a good shop",
    "really is a good shop",
    "I don't like it",
    "I can't say it was bad",
    "It's not great, it's OK",
    # punctuation, sentence ends, abbreviations, quotes, paragraphs
    "Great!!!",
    "good ! ! !",
    "bad!",
    "Great service. Terrible app. Fine prices.",
    "Mr. Smith was very helpful.",
    "e.g. the app... is slow...",
    "U.S. shipping is bad.",
    "he said \"great\" and 'bad'",
    "“Lovely” staff, ‘awful’ parking",
    "first paragraph is great\n\nsecond paragraph is terrible",
    "windows line breaks are bad\r\n\r\nbut fine",
    "sarcasm: great (!) service",
    "great ( ! ) service",
    "(great) value [really]",
    # emoticons, split and whole
    "good :)",
    "bad :(",
    "wow : ) nice",
    "ok :-D",
    "hmm :/",
    "love it <3",
    "love it ♥",
    "crying :'(",
    "XD that was fun",
    "max D is a plan",
    "o.O what",
    "too . O next",
    # non-ASCII, case, digits, symbols
    "café très bien 👍",
    "Ça va? Non, c'est nul!",
    "SUPER GOOD SERVICE",
    "Gut, aber teuer — expensive!",
    "£20 too expensive, 1/5",
    "5/5 great!!! #happy @shop",
    "naïve façade, beautiful though",
    "Zürich store: excellent",
    "\u00a0good\u2028bad\tugly",
    "",
    " ",
    "!",
    "...",
]


def _fuzz(n: int, seed: int) -> list[str]:
    """Texts built from sentiment words, negations, punctuation and emoticons cut at random."""
    rnd = random.Random(seed)
    faces = sorted(f for fs in pattern.EMOTICONS.values() for f in fs)
    parts = [
        *faces,
        *[
            "good",
            "bad",
            "not",
            "very",
            "really",
            "never",
            "no",
            "great",
            "terrible",
            "quite",
            "so",
            "!",
            ".",
            "...",
            "?",
            "(",
            ")",
            ":",
            "-",
            "'",
            '"',
            "“",
            "”",
            "(!)",
            "Mr.",
            "n't",
        ],
        "\n\n",
        "D",
        "x",
        "o",
        "O",
        "8",
    ]
    out = []
    for _ in range(n):
        words = []
        for _ in range(rnd.randint(1, 12)):
            word = rnd.choice(parts)
            if len(word) > 1 and rnd.random() < 0.3:  # ": )" instead of ":)"
                cut = rnd.randint(1, len(word) - 1)
                word = word[:cut] + " " + word[cut:]
            words.append(word + rnd.choice(["", " ", " ", "  "]))
        out.append("".join(words))
    return out


@pytest.fixture(scope="module")
def varied_texts():
    reviews = generate_synthetic(3000, seed=21)["review"].dropna().drop_duplicates().head(200).tolist()
    return HANDWRITTEN + reviews + _fuzz(200, seed=5)


def _textblob(texts):
    return np.array([tuple(TextBlob(t).sentiment) for t in texts])


def test_the_text_encoder_s_sentiment_is_textblob_s(varied_texts):
    assert len(varied_texts) > 400
    encoder = TextEncoder("review", nlp=True)
    distinct = encoder.read(pd.Series(varied_texts), False, None)
    encoder.fit(distinct)
    encoded = encoder.transform(distinct)
    names = encoder.features_
    polarity = encoded.features[names.index("review (sentiment)")]
    subjectivity = encoded.features[names.index("review (subjectivity)")]
    expected = _textblob(varied_texts)
    mismatched = [t for t, p, e in zip(varied_texts, polarity, expected[:, 0], strict=True) if p != e]
    assert not mismatched, mismatched[:5]
    assert (subjectivity == expected[:, 1]).all()
    assert len(set(polarity)) > 50  # the texts cover many different scores, negative and positive
    assert polarity.min() < -0.5 and polarity.max() > 0.5


def test_without_the_verified_textblob_every_text_goes_to_textblob(varied_texts):
    sentiment = PatternSentiment()
    sentiment.verified = False
    assert (sentiment(varied_texts[:80]) == _textblob(varied_texts[:80])).all()


def test_the_sentiment_rules_were_checked_on_the_installed_textblob():
    assert textblob_version() in VERIFIED_TEXTBLOB, (
        f"TextBlob {textblob_version()} is installed; segments/engine/preprocess/sentiment.py reproduces the rules "
        f"of TextBlob {', '.join(VERIFIED_TEXTBLOB)} and uses TextBlob itself (slowly) on any other version. Compare "
        "its code with textblob/_text.py (find_tokens, Sentiment.assessments), run this file, and add the version to "
        "VERIFIED_TEXTBLOB."
    )
    assert PatternSentiment().verified
