"""Traditional and simplified Chinese characters read as one.

A hospital system may store a name in simplified characters (``张伟明``) while a
report from Hong Kong or Taiwan, or a pasted letter, writes it in traditional
ones (``張偉明``). Text is compared after folding every hanzi to its simplified
form with OpenCC's character table (``t2s``: shipped inside the ``opencc``
wheel, loaded on first use, ~20 ms; nothing is downloaded). Characters that
are the same in both scripts, and every non-Han character, are unchanged.

>>> simplified("張"), simplified("张"), simplified("王"), simplified("a")
('张', '张', '王', 'a')
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # a compiled library and its tables: imported only for Chinese text

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=16384)
def simplified(char: str) -> str:
    """The simplified form of one character (itself when it has none or is not a hanzi)."""
    if not _is_han(char):
        return char
    converted = str(_converter().convert(char))
    return converted if len(converted) == 1 else char


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"
