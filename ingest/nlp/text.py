"""Text folding that keeps character offsets.

Recognisers match on a folded copy of the text (full-width forms to ASCII, common OCR confusions
inside numbers and units), and report offsets that are valid in the original, because folding
never changes the length: a character whose normal form is longer than one character is kept.
"""

from __future__ import annotations

import re
import unicodedata

# OCR confusions in units and numbers, each replaced by a string of the same length.
_UNIT_FIXES = (
    (re.compile(r"mmo[1lI|]/[lL1I]", re.IGNORECASE), "mmol/L"),
    (re.compile(r"mmol/[l1I]"), "mmol/L"),
    (re.compile(r"mmH9"), "mmHg"),
)
# A letter O/o or l/I standing between digits is a digit the OCR misread.
_DIGIT_LIKE = re.compile(r"(?<=\d)[OoDQ](?=\d)|(?<=\d)[lI|](?=\d)")
_DIGIT_OF = {"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1"}


def _fold_char(c: str) -> str:
    if c == "\u3000":
        return " "
    if c in "。":
        return c  # NFKC keeps it; a sentence end, not a decimal point
    folded = unicodedata.normalize("NFKC", c)
    return folded if len(folded) == 1 else c


def fold(text: str) -> str:
    """Same length as ``text``: full-width → ASCII, OCR digit and unit confusions fixed."""
    out = "".join(_fold_char(c) for c in text)
    out = _DIGIT_LIKE.sub(lambda m: _DIGIT_OF[m.group(0)], out)
    for pattern, fixed in _UNIT_FIXES:
        out = pattern.sub(fixed, out)
    return out
