"""Each customer's own advice (`CustomerResult.recommendation_reason` and the customers file's column) quotes money
figures ("own predicted LTV $1,240 vs $870 for the average customer") as the run wrote them, in the organization's
currency of that day. They are shown in the currency of today: `advice_in_currency` writes each figure's symbol
again at display time (pages, API, CSV, workbook, archive), so a currency change needs no re-run.

`segments.engine.formatting.money` writes a figure as sign + symbol + digits with the same digits in every currency,
so changing the symbol is the figure rendered in the other currency; the symbols are those of
`formatting.CURRENCIES`, the only currencies an organization can choose. Plain Python (no Django).
"""

from __future__ import annotations

import re

from segments.engine.formatting import CURRENCIES, currency_symbol

# a currency symbol at the start of a money figure: after the start, a space, "(" or the minus sign, before a digit
_FIGURE_SYMBOL = re.compile(
    r"(?<![^\s(−])("
    + "|".join(re.escape(s) for s in sorted({s for s, _ in CURRENCIES.values()}, key=len, reverse=True))
    + r")(?=\d)"
)


def advice_in_currency(text, currency: str | None = None):
    """`text` with every money figure in `currency` (an ISO code; None: the active one). Other text is unchanged."""
    if not text or not isinstance(text, str):
        return text
    symbol = currency_symbol(currency)
    return _FIGURE_SYMBOL.sub(lambda _: symbol, text)


def advice_array_in_currency(array, currency: str | None = None):
    """A pyarrow string array of advice in `currency`: each distinct sentence is rewritten once (a million
    customers share a few thousand sentences)."""
    import pyarrow as pa

    encoded = array.dictionary_encode()
    dictionary = pa.array([advice_in_currency(v, currency) for v in encoded.dictionary.to_pylist()], pa.string())
    return pa.DictionaryArray.from_arrays(encoded.indices, dictionary).cast(pa.string())
