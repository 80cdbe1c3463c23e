"""TextBlob's sentiment (polarity, subjectivity) for many texts: the same numbers, ~10 us per distinct text.

`TextBlob(t).sentiment` builds a blob and a namedtuple class per call, runs pattern's tokenizer (a dozen regular
expression passes and a loop per word) and looks every word up through a lazy dict that costs a Python call per
lookup: on distinct texts about 0.16 ms each, most of an analysis of 100,000 customers with free-text reviews.
`PatternSentiment` computes the same two figures with pattern's own rules and TextBlob's own lexicon:

- tokens: pattern's `find_tokens` (textblob/_text.py) - contractions, quotes, line breaks, then each
  whitespace-separated chunk split into words and punctuation - with each chunk's words remembered within a
  batch (reviews reuse their words). Pattern's sentence grouping and its rewrites of a sentence (a sarcasm mark
  "( ! )", an emoticon the splitting cut in two such as ": )") change a word only in a few texts; those go
  through a copy of that grouping;
- scores: pattern's `Sentiment.assessments` (negation, modifiers such as "very", "!", emoticons) over a plain
  dict copy of the loaded lexicon, averaged in the same order.

tests/engine/test_text_sentiment.py checks it against `TextBlob(t).sentiment` on a few hundred varied texts. It
is used only with the TextBlob version it was checked on (`VERIFIED_TEXTBLOB`); with any other version every
text goes to TextBlob's own analyzer (same figures, slower), and that test fails until someone re-checks.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version
from itertools import pairwise

import numpy as np

VERIFIED_TEXTBLOB = ("0.20.1",)
FORGETS = ("an unknown word that ends a pending negation or modifier",)


def textblob_version() -> str:
    return version("textblob")


class PatternSentiment:
    """Polarity and subjectivity of texts, as `TextBlob(text).sentiment` gives them."""

    def __init__(self):
        from textblob import _text as pattern
        from textblob.en import sentiment as analyzer

        len(analyzer)  # a lazy dict: this loads the lexicon (en-sentiment.xml and the derived "-ly" adverbs)
        self.analyzer = analyzer
        self.pattern = pattern
        # word -> (polarity, subjectivity, intensity, modifies the next word); strings carry no part of speech,
        # so pattern reads the scores averaged over parts of speech (key None)
        self.lexicon = {
            word: (*senses[None], any(tag in senses for tag in analyzer.modifiers))
            for word, senses in dict.items(analyzer)
            if None in senses
        }
        self.emoticons: dict[str, float] = {}
        for (_mood, polarity), faces in pattern.EMOTICONS.items():
            for face in faces:
                self.emoticons.setdefault(face.lower(), polarity)
        # pairs of characters that follow each other in an emoticon: where the tokenizer put a space between two
        # such characters, pattern's emoticon rewrite may join them again (": )" -> ":)")
        self.emoticon_pairs = frozenset(
            (face[k], face[k + 1])
            for faces in pattern.EMOTICONS.values()
            for face in faces
            for k in range(len(face) - 1)
        )
        self.pair_starts = frozenset(a for a, _ in self.emoticon_pairs)
        self.pair_ends = frozenset(b for _, b in self.emoticon_pairs)
        # contraction patterns are applied with re.sub; literal ones with an apostrophe let `in` skip absent ones
        literal = all(re.escape(old) == old and "'" in old for old in pattern.replacements)
        self.verified = literal and textblob_version() in VERIFIED_TEXTBLOB
        self.leading = tuple(pattern.PUNCTUATION.replace(".", ""))
        self.trailing = (*self.leading, ".")
        self.paragraph = re.compile(r"\n{2,}")

    # ---------------------------------------------------------------------------------------------- tokens
    def _split_chunk(self, t: str) -> list[str]:
        """pattern.find_tokens' loop body for one whitespace-separated chunk: leading and trailing punctuation
        split off, a final period kept on abbreviations ("Mr.", "e.g.")."""
        p = self.pattern
        replace = p.replacements
        tokens, tail = [], []
        while t.startswith(self.leading) and t not in replace:
            tokens.append(t[0])
            t = t[1:]
        while t.endswith(self.trailing) and t not in replace:
            if t.endswith(self.leading):
                tail.append(t[-1])
                t = t[:-1]
            if t.endswith("..."):
                tail.append("...")
                t = t[:-3].rstrip(".")
            if t.endswith("."):
                if (
                    t in p.ABBREVIATIONS
                    or p.RE_ABBR1.match(t) is not None
                    or p.RE_ABBR2.match(t) is not None
                    or p.RE_ABBR3.match(t) is not None
                ):
                    break
                tail.append(t[-1])
                t = t[:-1]
        if t != "":
            tokens.append(t)
        tokens.extend(reversed(tail))
        return tokens

    def _chunk(self, chunk: str, memo: dict) -> tuple:
        """(tokens, their words for scoring, first character if an emoticon pair can end with it, last character
        if one can start with it, whether pattern's sentence rewrites could change the chunk), remembered per
        chunk."""
        hit = memo.get(chunk)
        if hit is None:
            tokens = self._split_chunk(chunk)
            pairs = self.emoticon_pairs
            rewrite = self.pattern.EOS in tokens or any((a[-1], b[0]) in pairs for a, b in pairwise(tokens))
            hit = memo[chunk] = (
                tokens,
                self.classify([w.lower() for w in tokens]),
                tokens[0][0] if tokens and tokens[0][0] in self.pair_ends else None,
                tokens[-1][-1] if tokens and tokens[-1][-1] in self.pair_starts else None,
                rewrite,
            )
        return hit

    def _sentences(self, tokens: list[str]) -> list[str]:
        """pattern.find_tokens' sentence grouping and its rewrites of each sentence: a sarcasm mark "( ! )" ->
        "(!)", an emoticon the word splitting cut apart (": )") joined again; end-of-sentence markers dropped."""
        p = self.pattern
        eos = p.EOS
        sentences, i, j = [[]], 0, 0
        while j < len(tokens):
            if tokens[j] in ("...", ".", "!", "?", eos):
                while j < len(tokens) and tokens[j] in ("'", '"', "”", "’", "...", ".", "!", "?", ")", eos):
                    if tokens[j] in ("'", '"') and sentences[-1].count(tokens[j]) % 2 == 0:
                        break  # balanced quotes
                    j += 1
                sentences[-1].extend(t for t in tokens[i:j] if t != eos)
                sentences.append([])
                i = j
            j += 1
        sentences[-1].extend(tokens[i:j])
        out = []
        for sentence in sentences:
            if sentence:
                text = p.RE_SARCASM.sub("(!)", " ".join(sentence))
                out.append(p.RE_EMOTICONS.sub(lambda m: m.group(1).replace(" ", "") + m.group(2), text))
        return out

    def words(self, text: str, memo: dict | None = None) -> list[tuple]:
        """The lower-cased words pattern assesses in a text (`" ".join(find_tokens(text)).split()`), classified
        for scoring (see classify).

        Without a sarcasm mark, a paragraph break or an emoticon cut apart by the splitting (the usual case),
        the sentence grouping changes no word and the chunks' remembered words are the answer."""
        memo = {} if memo is None else memo
        p = self.pattern
        string = text
        if "'" in string:  # every contraction pattern has an apostrophe (checked in __init__)
            for old, new in p.replacements.items():
                if old in string:
                    string = re.sub(old, new, string)
        string = (
            string.replace("“", " “ ")
            .replace("”", " ” ")
            .replace("‘", " ‘ ")
            .replace("’", " ’ ")
            .replace("'", " ' ")
            .replace('"', ' " ')
        )
        if "\r" in string:
            string = string.replace("\r\n", "\n")
        if "\n\n" in string:
            string = self.paragraph.sub(f" {p.EOS} ", string)
        chunks = string.split()  # = re.sub(r"\s+", " ", ...) then (\S+)\s: the same whitespace rule
        out: list[tuple] = []
        suspect = "(" in string  # a sarcasm mark "( ! )" is rewritten to "(!)"
        pairs = self.emoticon_pairs
        previous_last = None
        get = memo.get
        for chunk in chunks:
            hit = get(chunk) or self._chunk(chunk, memo)
            if hit[4] or (hit[2] is not None and previous_last is not None and (previous_last, hit[2]) in pairs):
                suspect = True
            out.extend(hit[1])
            previous_last = hit[3]
        if not suspect:
            return out
        tokens = [t for chunk in chunks for t in self._chunk(chunk, memo)[0]]
        if p.EOS not in tokens and not self._rewrites(" ".join(tokens)):
            return out
        return self.classify([w.lower() for w in " ".join(self._sentences(tokens)).split()])

    def _rewrites(self, joined: str) -> bool:
        """Whether pattern's sentence rewrites change any token of a text whose tokens, space-separated, are
        `joined`. A rewrite inside a sentence is a match in the whole text too (a sentence is a stretch of it), and
        a match without a space lies within one token and changes nothing; so without a changing match in the
        whole text, no sentence changes."""
        p = self.pattern
        return any(m.group(0) != "(!)" for m in p.RE_SARCASM.finditer(joined)) or any(
            " " in m.group(1) for m in p.RE_EMOTICONS.finditer(joined)
        )

    def classify(self, words: list[str]) -> list[tuple]:
        """(word, its lexicon entry (polarity, subjectivity, intensity, modifies the next word)), or FORGETS for an
        unknown word of three or more letters that is no negation (it ends any pending negation or modifier and
        does nothing else), or None for another unknown word (negations, punctuation, emoticons)."""
        lexicon = self.lexicon
        negations = self.analyzer.negations
        out = []
        for w in words:
            entry = lexicon.get(w)
            if entry is None and len(w) > 2 and w.isalpha() and w not in negations:
                entry = FORGETS
            out.append((w, entry))
        return out

    # ---------------------------------------------------------------------------------------------- scores
    def score(self, words: list[tuple]) -> tuple[float, float]:
        """pattern's Sentiment.assessments and averages for a string's classified words (no part-of-speech
        tags)."""
        negations = self.analyzer.negations
        is_modifier = self.analyzer.modifier
        punctuation = self.pattern.PUNCTUATION
        emoticons = self.emoticons
        a: list[list] = []  # per assessment: [polarity, subjectivity, intensity, -1 when negated else 1]
        m = None  # preceding modifier ("very")
        n = None  # preceding negation ("not")
        for w, entry in words:
            if entry is FORGETS:
                m = n = None
            elif entry is not None:
                p, s, i, modifies = entry
                if m is None:
                    a.append([p, s, i, 1])
                else:  # "really good": the modifier's assessment takes the word's scores times its intensity
                    last = a[-1]
                    last[0] = max(-1.0, min(p * last[2], +1.0))
                    last[1] = max(-1.0, min(s * last[2], +1.0))
                    last[2] = i
                if n is not None:  # "not really good"
                    last = a[-1]
                    last[2] = 1.0 / last[2]
                    last[3] = -1
                m = w if modifies else None
                n = w if w in negations else None
            else:
                if w in negations:
                    n = w
                elif n and len(w.strip("'")) > 1:
                    n = None
                if n is not None and m is not None and is_modifier(m):
                    a[-1][3] = -1  # "really not good"
                    n = None
                elif m and len(w) > 2:
                    m = None
                if w == "!" and len(a) > 0:
                    a[-1][0] = max(-1.0, min(a[-1][0] * 1.25, +1.0))
                if w == "(!)":
                    a.append([0.0, 1.0, 1.0, 1])
                if w.isalpha() is False and len(w) <= 5 and w not in punctuation:
                    face = emoticons.get(w)
                    if face is not None:
                        a.append([face, 1.0, 1.0, 1])
        polarity = subjectivity = 0
        for p, s, _i, negated in a:
            polarity += p * -0.5 if negated < 0 else p  # "not good" is slightly bad, "not bad" slightly good
            subjectivity += s
        count = float(len(a) or 1)
        return polarity / count, subjectivity / count

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 2) array of polarity and subjectivity; an empty text scores (0, 0)."""
        memo: dict = {}
        if self.verified:
            scores = [self.score(self.words(text, memo)) if text else (0.0, 0.0) for text in texts]
        else:
            scores = [tuple(self.analyzer(text))[:2] if text else (0.0, 0.0) for text in texts]
        return np.array(scores, dtype=float).reshape(len(texts), 2)


@cache
def pattern_sentiment() -> PatternSentiment:
    """The one instance per process (its lexicon copy takes ~50 ms to build)."""
    return PatternSentiment()
