"""Synthetic customers with hidden segments, generated vectorised from a seed.

Purchases follow a buy-till-you-die process per customer (a purchase rate and a
dropout time), so recency, frequency and tenure are mutually consistent and the
optional churn label ("no purchase in the next 90 days") is a genuine future
outcome rather than a function of the columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCE_DATE = np.datetime64("2026-06-30")

# name, share, tenure days, days between purchases, P(still active), AOV, sessions/month,
# tickets, discount share, P(positive review), P(negative review), P(mobile)
SEGMENTS = [
    ("VIP loyalists", 0.15, 900, 14, 0.95, 160.0, 22, 0.4, 0.08, 0.80, 0.05, 0.35),
    ("At-risk budget buyers", 0.25, 500, 45, 0.35, 28.0, 4, 3.0, 0.60, 0.10, 0.65, 0.55),
    ("New explorers", 0.20, 40, 18, 0.85, 45.0, 16, 1.2, 0.45, 0.45, 0.10, 0.85),
    ("Dormant", 0.20, 1000, 110, 0.12, 45.0, 1, 0.3, 0.20, 0.15, 0.30, 0.45),
    ("Growth potential", 0.20, 400, 25, 0.90, 110.0, 7, 0.3, 0.10, 0.60, 0.08, 0.25),
]
REGIONS = ["North", "South", "East", "West", "Central"]
CHANNELS = ["organic", "paid_search", "social", "email", "referral", "affiliate"]
_CITY_A = ["North", "South", "East", "West", "New", "Port", "Lake", "Fort", "Mount", "Glen", "Bay", "Old"]
_CITY_B = [
    "field",
    "ville",
    "ton",
    "burg",
    "haven",
    "ford",
    "port",
    "wood",
    "view",
    "dale",
    "bridge",
    "stead",
    "more",
    "side",
    "brook",
    "mouth",
    "minster",
    "gate",
    "hill",
    "water",
]
CITIES = [a + b for a in _CITY_A for b in _CITY_B]  # 240 cities, Zipf-distributed

# Review text. Real review columns are mostly distinct (100,000 customers of a retail table wrote 52,601 different
# reviews): a few short reviews repeat often ("Great service."), most are composed freely. Here a review is a
# stock phrase, one clause ("The delivery was really fast!") or a longer review of two to four clauses with an
# opener, connectors and a tail (positive, neutral, negative or mixed: "Prices are fair, but support was slow.");
# negations, intensifiers, casing, typos and a little non-ASCII. The one-clause space is finite (about 60,000
# texts), so the number of distinct texts grows with the table but more slowly: about half of 100,000 rows, a
# sixth of 1,000,000, as in the real table.
POSITIVE, NEUTRAL, NEGATIVE, MIXED = 0, 1, 2, 3


def _parts(text: str) -> list[str]:
    return text.split("|")


_STOCK = {  # short reviews many customers write word for word (the first ones most often)
    POSITIVE: _parts(
        "Great service.|Love it!|Great|Excellent.|Very good|Fast delivery!|Perfect.|Best shop ever|"
        "Highly recommended.|Happy customer :)|Super 👍|Five stars|Amazing!!|Good value for money.|Nice|"
        "Très bien"
    ),
    NEUTRAL: _parts(
        "OK|ok|Fine.|Average.|As expected|Nothing special.|It does the job.|Meh|No complaints, no praise.|"
        "Standard delivery.|Normal shop|3 stars"
    ),
    NEGATIVE: _parts(
        "Terrible.|Never again.|Too expensive|Bad service|Awful!|Disappointed.|Poor quality|"
        "Late delivery again|Worst shop ever|Not good|1 star|Useless support :("
    ),
}
_SUBJECTS = _parts(
    "the delivery|customer service|the app|the website|the prices|the quality|the checkout|the packaging|"
    "support|my last order|the staff|the product range|returns|the sizes|shipping|the discounts|the newsletter|"
    "the courier|the refund|the café in the store|the loyalty programme|the tracking|the fabric|"
    "the instructions"
)
_NOUNS = _parts(
    "service|delivery|prices|quality|support|app|shop|products|staff|packaging|checkout|shipping|value|"
    "experience|selection|returns"
)
_VERBS = _parts("was|is|has been|seemed")
_WORDS = {  # quality words TextBlob scores (and a few it does not: "reliable", "damaged", "on time")
    POSITIVE: _parts(
        "great|good|excellent|fast|friendly|amazing|perfect|easy|nice|lovely|quick|smooth|helpful|fair|superb|"
        "wonderful|reliable|cheap|clean|polite"
    ),
    NEUTRAL: _parts("okay|fine|average|normal|standard|as expected|acceptable|on time|so-so|adequate|ordinary|usual"),
    NEGATIVE: _parts(
        "bad|slow|terrible|late|expensive|rude|awful|broken|confusing|poor|disappointing|wrong|messy|useless|"
        "horrible|damaged|unhelpful|annoying"
    ),
}
_INTENSIFIERS = _parts("|very |really |quite |so ")
_LONG_INTENSIFIERS = _parts("||very |really |quite |so |extremely |super |pretty |a bit |incredibly |rather |truly ")
_NEGATIONS = _parts("not |not very |never |not really |not at all ")
_OPENERS = _parts(
    "|Honestly, |Overall |Well, |To be fair, |I think |As usual, |Hmm, |First order: |Update: |So far |Sadly |Wow, "
)
_JOINS = _parts(", and | and |. |; |, also |! | - |. Also ")
_CONTRASTS = _parts(" but |, but | although |. However, |, yet | - but |. On the other hand ")
_ENDINGS = _parts(".|!")
_LONG_ENDINGS = _parts(".||!|!!|...| !|?!")
_TAILS = _parts(
    "| Will order again.| Thanks!| Would not recommend.| 5 stars.| 2/5.| Merci !| 😊| 👍| :)| :(|"
    " Can't complain.| Not sure yet.| See you soon.| Danke.| ¡Gracias!| — Anna| (ordered twice)| #happy|"
    " Never again."
)
STOCK_SHARE = 0.25  # of reviews that are not mixed; the rest: one clause, or LONG_SHARE long ones
LONG_SHARE = 0.05
MIXED_OF_UNDECIDED = 0.15  # of customers neither positive nor negative (the rest are neutral)
TYPO_SHARE = 0.02
LOWERCASE_SHARE = 0.1


def _pick(rng: np.random.Generator, options: list, size: int, zipf: float = 0.0) -> np.ndarray:
    """Draw from options, uniformly or, with zipf > 0, the first ones most often (weights 1/rank**zipf)."""
    weights = 1.0 / np.arange(1, len(options) + 1) ** zipf
    return np.asarray(options, dtype=object)[rng.choice(len(options), size, p=weights / weights.sum())]


def _clauses(rng: np.random.Generator, tone: np.ndarray, intensifiers: list[str], negations: list[str]) -> np.ndarray:
    """One clause per entry of tone (POSITIVE, NEUTRAL or NEGATIVE): "the delivery was really fast",
    "very friendly staff", "the prices were not bad" (a negated word of the other tone)."""
    n = tone.size
    negated = (rng.random(n) < 0.15) & (tone != NEUTRAL)
    word_tone = np.where(negated, NEGATIVE - tone, tone)
    word = np.empty(n, dtype=object)
    for t in (POSITIVE, NEUTRAL, NEGATIVE):
        where = np.flatnonzero(word_tone == t)
        word[where] = _pick(rng, _WORDS[t], where.size)
    described = np.where(negated, _pick(rng, negations, n), _pick(rng, intensifiers, n)) + word
    subject_first = _pick(rng, _SUBJECTS, n) + " " + _pick(rng, _VERBS, n) + " " + described
    noun_last = described + " " + _pick(rng, _NOUNS, n)
    return np.where(rng.random(n) < 0.8, subject_first, noun_last)


def _typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard slip: two neighbouring letters swapped, a letter dropped or doubled."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(rng.integers(0, len(letters) - 1))]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _long_reviews(rng: np.random.Generator, tone: np.ndarray) -> np.ndarray:
    """Two to four clauses with an opener, connectors and a tail; a MIXED review turns once (" but ")."""
    n = tone.size
    mixed = tone == MIXED
    first = np.where(mixed, np.where(rng.random(n) < 0.5, POSITIVE, NEGATIVE), tone)
    second = np.where(mixed, NEGATIVE - first, tone)
    text = _pick(rng, _OPENERS, n, zipf=1.0) + _clauses(rng, first, _LONG_INTENSIFIERS, _NEGATIONS)
    text = text + np.where(mixed, _pick(rng, _CONTRASTS, n), _pick(rng, _JOINS, n))
    text = text + _clauses(rng, second, _LONG_INTENSIFIERS, _NEGATIONS)
    for share in (0.4, 0.3):  # a third and a fourth clause, in the tone the review ended on
        more = rng.random(n) < share
        extra = _pick(rng, _JOINS, n) + _clauses(rng, second, _LONG_INTENSIFIERS, _NEGATIONS)
        text = np.where(more, text + extra, text)
    return text + _pick(rng, _LONG_ENDINGS, n, zipf=1.0) + _pick(rng, _TAILS, n, zipf=0.7)


def _reviews(rng: np.random.Generator, tone: np.ndarray) -> np.ndarray:
    """A review per customer of the given tone (POSITIVE, NEUTRAL, NEGATIVE or MIXED)."""
    n = tone.size
    u = rng.random(n)
    shape = np.where(u < STOCK_SHARE, 0, np.where(u < 1 - LONG_SHARE, 1, 2))  # stock, one clause, long
    shape[tone == MIXED] = 2  # a mixed review says two things
    out = np.empty(n, dtype=object)
    for t in (POSITIVE, NEUTRAL, NEGATIVE):
        where = np.flatnonzero((shape == 0) & (tone == t))
        out[where] = _pick(rng, _STOCK[t], where.size, zipf=1.1)
    one = np.flatnonzero(shape == 1)
    out[one] = _clauses(rng, tone[one], _INTENSIFIERS, ["not "]) + _pick(rng, _ENDINGS, one.size)
    long = np.flatnonzero(shape == 2)
    out[long] = _long_reviews(rng, tone[long])
    out[one] = [s[:1].upper() + s[1:] for s in out[one]]
    lower = long[rng.random(long.size) < LOWERCASE_SHARE]  # some write long reviews all in lower case
    out[long] = [s[:1].upper() + s[1:] for s in out[long]]
    out[lower] = [s.lower() for s in out[lower]]
    for i in np.flatnonzero(rng.random(n) < TYPO_SHARE):
        out[i] = _typo(out[i], rng)
    return out


def generate_synthetic(
    rows: int = 10_000,
    seed: int = 42,
    include_segment_labels: bool = False,
    include_churn_label: bool = False,
    include_future_value: bool = False,
    missing_share: float = 0.02,
) -> pd.DataFrame:
    """N synthetic customers. Hidden columns (only when asked): ``true_segment``,
    ``churned`` (0/1, no purchase in the 90 days after the reference date) and
    ``future_spend_12m`` (simulated spend over the next 12 months)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n = int(rows)
    seg_params = np.array([s[1:] for s in SEGMENTS], dtype=float)
    shares = seg_params[:, 0] / seg_params[:, 0].sum()
    seg = rng.choice(len(SEGMENTS), size=n, p=shares)
    p = seg_params[seg]  # n x params

    tenure = np.maximum(1.0, p[:, 1] * rng.lognormal(0.0, 0.35, n))
    gap = p[:, 2] * rng.lognormal(0.0, 0.3, n)  # mean days between purchases
    lam = 1.0 / gap
    alive = rng.random(n) < p[:, 3]
    death = tenure * rng.uniform(0.05, 0.9, n)
    active_len = np.where(alive, tenure, death)
    orders = 1 + rng.poisson(lam * active_len)
    last_gap = rng.exponential(gap)
    t_last = np.where(orders > 1, np.clip(active_len - last_gap, 0.0, active_len), 0.0)
    recency = np.round(tenure - t_last)
    tenure = np.round(tenure)
    aov = p[:, 4] * rng.gamma(8.0, 1 / 8.0, n)
    spend = orders * aov * rng.gamma(30.0, 1 / 30.0, n)
    sessions = rng.poisson(p[:, 5] * np.where(alive, 1.0, 0.25) * rng.gamma(4.0, 0.25, n))
    visit_recency = np.minimum(recency, np.round(rng.exponential(30.0 / np.maximum(sessions, 0.3))))
    tickets = rng.poisson(p[:, 6])
    d = p[:, 7]
    discount = rng.beta(d * 12 + 0.5, (1 - d) * 12 + 0.5)

    region = rng.choice(len(REGIONS), size=n, p=[0.24, 0.22, 0.2, 0.2, 0.14])
    mobile = rng.random(n) < p[:, 10]
    chan_p = np.array([0.3, 0.2, 0.2, 0.12, 0.1, 0.08])
    channel = rng.choice(len(CHANNELS), size=n, p=chan_p)
    zipf = 1.0 / np.arange(1, len(CITIES) + 1) ** 0.9
    city = rng.choice(len(CITIES), size=n, p=zipf / zipf.sum())

    u = rng.random(n)
    p_pos, p_neg = p[:, 8], p[:, 9]
    tone = np.where(
        u < p_pos,
        POSITIVE,
        np.where(
            u < p_pos + p_neg, NEGATIVE, np.where(u < 1 - (1 - p_pos - p_neg) * MIXED_OF_UNDECIDED, NEUTRAL, MIXED)
        ),
    )
    review = _reviews(rng, tone)

    signup = REFERENCE_DATE - tenure.astype("timedelta64[D]")
    last_purchase = REFERENCE_DATE - recency.astype("timedelta64[D]")

    ids = "C" + pd.Series(np.arange(1, n + 1), dtype="int64").astype("str").str.zfill(7)
    columns = {
        "customer_id": ids.to_numpy(),
        "total_spend": np.round(spend, 2),
        "orders": orders.astype(float),
        "avg_order_value": np.round(aov, 2),
        "days_since_last_visit": visit_recency,
        "sessions_per_month": sessions.astype(float),
        "support_tickets": tickets.astype(float),
        "tenure_days": tenure,
        "discount_usage": np.round(discount, 3),
        "region": np.array(REGIONS, dtype=object)[region],
        "device": np.array(["mobile", "desktop", "tablet"], dtype=object)[
            np.where(mobile, 0, np.where(rng.random(n) < 0.8, 1, 2))
        ],
        "channel": np.array(CHANNELS, dtype=object)[channel],
        "city": np.array(CITIES, dtype=object)[city],
        "signup_date": signup.astype("datetime64[s]"),
        "last_purchase_date": last_purchase.astype("datetime64[s]"),
        "review": review,
    }
    if missing_share > 0:
        # about 2% missing in the columns a CRM export typically leaves blank (set before building the frame:
        # assigning into string columns afterwards would copy them)
        for col in (
            "total_spend",
            "avg_order_value",
            "days_since_last_visit",
            "sessions_per_month",
            "support_tickets",
            "discount_usage",
            "region",
            "device",
            "city",
            "review",
        ):
            mask = rng.random(n) < missing_share
            values = columns[col]
            if values.dtype == object:
                values = values.copy() if values is review else values
                values[mask] = None
            else:
                values = values.astype(float, copy=True)
                values[mask] = np.nan
            columns[col] = values
    df = pd.DataFrame(columns)
    if include_churn_label:
        p_no_purchase = np.exp(-lam * 90.0)
        df["churned"] = np.where(alive, rng.random(n) < p_no_purchase, True).astype(int)
    if include_future_value:
        future_orders = np.where(alive, rng.poisson(lam * 365.0 * 0.85), 0)
        df["future_spend_12m"] = np.round(future_orders * aov, 2)
    if include_segment_labels:
        df["true_segment"] = seg
    return df
