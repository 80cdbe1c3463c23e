"""Text columns: word count and length; with NLP, TextBlob's polarity and subjectivity and TF-IDF topics.

All text work happens once per distinct text of a batch. Measured on reviews where half the rows are distinct
(bench/engine.py), the time goes to three things, each done once: sentiment (sentiment.py: TextBlob's figures
without TextBlob's per-call overhead), the TF-IDF vocabulary and matrix (one tokenizing pass: fit_transform, not
fit then transform), and the topics' SVD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..coerce import MISSING_TOKENS, is_missing_token
from .encoder import Encoded, Encoder, UnusableColumn
from .sentiment import pattern_sentiment

W_TEXT_SIZE = 0.25  # word count and length
W_SENTIMENT = 1.0
W_SUBJECTIVITY = 0.5
W_TOPICS = 0.5  # the TF-IDF topics together
TFIDF_MAX_TERMS = 2000


@dataclass
class DistinctTexts:
    """A batch's texts, each distinct text once: row i has ``texts[codes[i]]`` (code -1: missing, no text).
    ``features`` holds the distinct texts' features once an encoder computed them (fit computes them for the
    training rows, and transform reuses them)."""

    codes: np.ndarray
    texts: list[str]
    features: np.ndarray | None = None


class WordAnalyzer:
    """TfidfVectorizer's default word analysis (lower case, tokens of two or more word characters, English stop
    words removed), remembered per whitespace-separated chunk within a batch: reviews reuse their words. The
    tokens are the default analyzer's: lower-casing, the token pattern and the stop words never look across
    whitespace, so a text's tokens are its chunks' tokens in order."""

    MEMO_LIMIT = 200_000  # chunks remembered (~20 MB) across calls; the memo starts again beyond it

    def __init__(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._analyze = TfidfVectorizer(stop_words="english").build_analyzer()
        self._memo: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        memo = self._memo
        if len(memo) > self.MEMO_LIMIT:
            memo.clear()
        out: list[str] = []
        for chunk in text.split():
            tokens = memo.get(chunk)
            if tokens is None:
                tokens = memo[chunk] = self._analyze(chunk)
            out.extend(tokens)
        return out

    def forget(self) -> None:
        self._memo.clear()

    def __getstate__(self):  # a saved model keeps no memo (and rebuilds the analysis when loaded)
        return {}

    def __setstate__(self, state):
        self.__init__()


_LONGEST_MISSING_TOKEN = max(map(len, MISSING_TOKENS))


def _texts(values) -> list[str]:
    """Values -> texts, "" for a missing value (coerce.is_missing_token). Only a short text, or one with
    whitespace around it, can be a missing token ("N/A", " na "): a review is neither, so it skips the check."""
    return [
        v
        if isinstance(v, str) and len(v) > _LONGEST_MISSING_TOKEN and not (v[0].isspace() or v[-1].isspace())
        else ("" if is_missing_token(v) else str(v))
        for v in values
    ]


class TextEncoder(Encoder):
    """text: words and length (weight W_TEXT_SIZE each); with ``nlp``, polarity and subjectivity (TextBlob's
    figures) and up to ``tfidf_components`` TF-IDF topics (TruncatedSVD of a 2,000-term TF-IDF matrix, English stop
    words removed; W_TOPICS together). A missing text has no words, no sentiment and no topics (all zero)."""

    role = "text"

    def __init__(self, column: str, nlp: bool = True, tfidf_components: int = 5, random_state: int = 42):
        self.column = column
        self.nlp = nlp
        self.tfidf_components = tfidf_components
        self.random_state = random_state

    def read(self, series, strict, warnings) -> DistinctTexts:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return DistinctTexts(codes, _texts(uniques))

    def read_small(self, values) -> DistinctTexts:
        return DistinctTexts(np.arange(len(values)), _texts(values))

    def fit(self, distinct: DistinctTexts) -> TextEncoder:
        texts = distinct.texts
        if not any(texts):
            raise UnusableColumn("all values missing", refuse_if_declared=True)
        col = self.column
        blocks = [_sizes(texts)]
        self.features_ = [f"{col} (words)", f"{col} (length)"]
        self.weights_ = [W_TEXT_SIZE, W_TEXT_SIZE]
        self.tfidf_ = self.svd_ = None
        if self.nlp:
            blocks.append(pattern_sentiment()(texts))
            self.features_ += [f"{col} (sentiment)", f"{col} (subjectivity)"]
            self.weights_ += [W_SENTIMENT, W_SUBJECTIVITY]
            topics = self._fit_topics(texts)
            if topics is not None:
                blocks.append(topics)
                n_topics = topics.shape[1]
                self.features_ += [f"{col} (topic {i + 1})" for i in range(n_topics)]
                self.weights_ += [W_TOPICS / np.sqrt(n_topics)] * n_topics
        distinct.features = np.hstack(blocks)
        return self

    def _fit_topics(self, texts: list[str]) -> np.ndarray | None:
        """Fit the TF-IDF vocabulary and the SVD on the non-empty distinct texts; their topics (zero for an empty
        text), or None when the texts have too few terms for one topic."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        filled = [i for i, t in enumerate(texts) if t]
        tfidf = TfidfVectorizer(analyzer=WordAnalyzer(), max_features=TFIDF_MAX_TERMS, dtype=np.float32)
        try:
            matrix = tfidf.fit_transform([texts[i] for i in filled])
        except ValueError:  # no term left (every word a stop word)
            return None
        tfidf.analyzer.forget()  # the training vocabulary's chunks: a fitted model need not carry them
        # fit_transform leaves each row's terms unsorted; sorted, the matrix is the one transform() gives, value
        # for value, so the training rows' topics are those a new record with the same text gets
        matrix.sort_indices()
        n_topics = min(self.tfidf_components, len(tfidf.vocabulary_) - 1, max(len(filled) - 1, 0))
        if n_topics < 1:
            return None
        self.tfidf_ = tfidf
        self.svd_ = TruncatedSVD(n_components=n_topics, random_state=self.random_state).fit(matrix)
        topics = np.zeros((len(texts), n_topics))
        topics[filled] = self.svd_.transform(matrix)
        return topics

    def _features(self, texts: list[str]) -> np.ndarray:
        blocks = [_sizes(texts)]
        if self.nlp:
            blocks.append(pattern_sentiment()(texts))
            if self.svd_ is not None:
                blocks.append(self.svd_.transform(self.tfidf_.transform(texts)))
        return np.hstack(blocks)

    def transform(self, distinct: DistinctTexts, observed: bool = False) -> Encoded:
        if distinct.features is None:
            distinct.features = self._features(distinct.texts) if distinct.texts else np.zeros((0, len(self.features_)))
        per_text = distinct.features
        features = []
        for j in range(per_text.shape[1]):
            column = np.zeros(len(per_text) + 1)  # the last slot: code -1, a missing text
            column[:-1] = per_text[:, j]
            features.append(column[distinct.codes])
        profile = {name: values.astype(np.float32) for name, values in zip(self.features_[:3], features, strict=False)}
        return Encoded(features, profile)


def _sizes(texts: list[str]) -> np.ndarray:
    """Word count and length of each text."""
    return np.array([(len(t.split()), len(t)) for t in texts], dtype=float).reshape(len(texts), 2)
