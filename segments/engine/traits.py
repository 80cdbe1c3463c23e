"""Traits a marketer can read: the engine's feature names ("device=mobile", "voice_mail_plan",
"review (topic 5)", "signup_date (year)") turned into sentences ("41% use device “mobile” (vs 30% overall)",
"62% have a voice mail plan (vs 26% overall)", "reviews about “late, refund, delivery”") and into the short
phrase a segment's name can carry ("voice mail plan", "fewer sessions per month").

`feature_glossary(preprocessor)` reads what each feature means from the fitted encoders once; `describe()` and
`short_phrase()` use it. Calendar parts of a date (year, month) are not traits: a mean year or month is no
fact about customers, and the date's age ("days ago") says it plainly.
"""

from __future__ import annotations

from .formatting import money, number, percent

_YES = {"yes", "y", "true", "t", "1", "1.0"}
_NO = {"no", "n", "false", "f", "0", "0.0"}
TOPIC_WORDS = 4
_COUNTABLE = {"plan", "subscription", "account", "card", "membership", "contract", "partner", "dependent"}


def words(column: str) -> str:
    return str(column).replace("_", " ").strip()


def feature_glossary(pre) -> dict[str, dict]:
    """{feature: {"kind", "column", ...}} for every feature of a fitted Preprocessor whose meaning is not its
    plain column: binary categoricals (the level the share counts), one-hot levels, a date's parts, text parts and
    topics (their top words)."""
    out: dict[str, dict] = {}
    for enc in getattr(pre, "encoders_", []):
        col = enc.column
        role = getattr(enc, "role", None)
        if hasattr(enc, "encoding_"):  # categorical
            if enc.encoding_ == "label" and len(enc.levels_) == 2:
                low, high = enc.levels_
                yes_no = str(high).strip().lower() in _YES and str(low).strip().lower() in _NO
                out[col] = {"kind": "binary", "column": col, "level": str(high), "yes_no": yes_no}
            else:
                for f in enc.features_:
                    out[f] = {"kind": "level", "column": col, "level": f.split("=", 1)[1]}
        elif role == "date":
            for f in enc.features_:
                part = f.rsplit("(", 1)[-1].rstrip(")") if f.endswith(")") else ""
                out[f] = {"kind": "date_" + part.replace(" ", "_"), "column": col}
        elif role == "text":
            topic_words = _topic_words(enc)
            for f in enc.features_:
                part = f.rsplit("(", 1)[-1].rstrip(")")
                entry = {"kind": "text_" + part.split(" ")[0], "column": col}
                if part.startswith("topic "):
                    i = int(part.split(" ")[1]) - 1
                    entry["words"] = topic_words[i] if i < len(topic_words) else []
                out[f] = entry
        elif role == "monetary":
            out[col] = {"kind": "money", "column": col}
    return out


def _topic_words(enc) -> list[list[str]]:
    svd, tfidf = getattr(enc, "svd_", None), getattr(enc, "tfidf_", None)
    if svd is None or tfidf is None:
        return []
    vocab = tfidf.get_feature_names_out()
    return [[str(vocab[i]) for i in comp.argsort()[::-1][:TOPIC_WORDS]] for comp in svd.components_]


def is_trait(feature: str, glossary: dict) -> bool:
    """Calendar parts (a mean year or month) and missing-value flags of a date are no trait to show."""
    kind = glossary.get(feature, {}).get("kind", "")
    return kind not in ("date_year", "date_month")


def _days(value) -> str:
    return number(round(value)) if value is not None else number(None)


def _num(value, kind: str) -> str:
    return money(value) if kind == "money" else number(value)


def describe(d: dict, glossary: dict) -> str:
    """One distinguishing feature ({feature, z, segment_mean, population_mean}) as a sentence."""
    feature, z = d["feature"], d.get("z") or 0.0
    seg, pop = d.get("segment_mean"), d.get("population_mean")
    info = glossary.get(feature, {})
    kind = info.get("kind", "number")
    col = words(info.get("column", feature))
    if kind == "binary":
        article = "a " if col.split(" ")[-1] in _COUNTABLE else ""
        subject = f"have {article}{col}" if info["yes_no"] else f"have {col} “{info['level']}”"
        return f"{percent(seg, 0)} {subject} (vs {percent(pop, 0)} overall)"
    if kind == "level":
        return f"{percent(seg, 0)} with {col} “{info['level']}” (vs {percent(pop, 0)} overall)"
    if feature.endswith(" (missing)"):
        return f"{percent(seg, 0)} without a recorded {words(feature.removesuffix(' (missing)'))} (vs {percent(pop, 0)} overall)"
    if kind == "date_days_ago":
        return f"{col}: {_days(seg)} days ago on average (vs {_days(pop)} overall)"
    if kind == "text_topic":
        about = ", ".join(info.get("words") or []) or "one recurring theme"
        more = "more often" if z > 0 else "less often"
        return f"{col} {more} about “{about}” than the average customer's"
    if kind == "text_sentiment":
        tone = "more positive" if z > 0 else "more negative"
        return f"{col} {tone}: sentiment {number(seg)} (vs {number(pop)} overall, from −1 to +1)"
    if kind == "text_subjectivity":
        return f"{col} {'more' if z > 0 else 'less'} subjective: {number(seg)} (vs {number(pop)} overall, 0 to 1)"
    if kind in ("text_words", "text_length"):
        unit = "words" if kind == "text_words" else "characters"
        return f"{'longer' if z > 0 else 'shorter'} {col}: {number(seg)} {unit} (vs {number(pop)} overall)"
    return f"{'higher' if z > 0 else 'lower'} {col}: {_num(seg, kind)} (vs {_num(pop, kind)} overall)"


def short_phrase(d: dict, glossary: dict) -> str:
    """A few words for a segment's name: 'voice mail plan', 'no voice mail plan', 'mostly mobile device',
    'recent last purchase', 'low support tickets', 'review on late, refund'."""
    feature, z = d["feature"], d.get("z") or 0.0
    info = glossary.get(feature, {})
    kind = info.get("kind", "number")
    col = words(info.get("column", feature))
    if kind == "binary":
        if info["yes_no"]:
            return col if z > 0 else f"no {col}"
        return f"{'more' if z > 0 else 'fewer'} {col} {info['level']}"
    if kind == "level":
        return f"{'mostly' if z > 0 else 'few'} {info['level']} {col}"
    if kind == "date_days_ago":  # "last purchase date" -> "old last purchase" (a name stays short)
        return f"{'old' if z > 0 else 'recent'} {col.removesuffix(' date').removesuffix(' at')}"
    if kind == "text_topic":
        return f"{col} on {', '.join((info.get('words') or [])[:2]) or 'a theme'}"
    if kind == "text_sentiment":
        return f"{'positive' if z > 0 else 'negative'} {col}"
    return f"{'high' if z > 0 else 'low'} {col}"


def money_trait_text(d: dict) -> str:
    """A money trait's sentence written now, in the active currency (a stored one quotes the run's currency)."""
    return describe(d, {d["feature"]: {"kind": "money", "column": d["feature"]}})
