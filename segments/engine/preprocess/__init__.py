"""Preprocessing: raw customer table -> float32 feature matrix, fitted once, applied to any rows.

One small encoder per role, each with fit, transform and a single-record read path (encoder.py), composed by
`Preprocessor` (preprocessor.py):

| role | encoder | features |
| --- | --- | --- |
| numeric, monetary | `numeric.NumericEncoder` | the value (median-imputed; log1p when non-negative and right-skewed), "(missing)" indicator when >= 5 % missing |
| date | `dates.DateEncoder` | days before the reference date; calendar month and year (weight 0.25) when they vary |
| categorical | `categorical.CategoricalEncoder` | integer code (<= 2 levels), one-hot (<= 15), top 10 + "other" |
| text | `text.TextEncoder` | words, length (0.25 each); with NLP: TextBlob polarity and subjectivity (`sentiment.py`), TF-IDF topics (0.5 together) |

Every feature is standardised and then weighted so that one source column carries about one unit of variance
(a one-hot block or a TF-IDF block does not outvote a numeric column).
"""

from .preprocessor import Preprocessor

__all__ = ["Preprocessor"]
