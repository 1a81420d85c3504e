"""What members type, read the way a Chinese keyboard types it.

A phone in Chinese mode gives full-width letters and digits (`ＱＳ０１`, `＃１２`) and
Chinese punctuation (`QS01，完成预审`, `QS01：完成预审`). Codes, ids and numbers are
folded to ASCII (NFKC); the separators `，：、；,:;` count as spaces between a code or
id and what follows. Free text is taken as written: NFKC would turn its Chinese
punctuation into ASCII.
"""

from __future__ import annotations

import re
import unicodedata

from storage.models import MAX_ID

# Whitespace includes the ideographic space (U+3000) a Chinese keyboard types.
_SEPARATORS = r"\s,:;，：、；"
_LEADING = re.compile(f"^[{_SEPARATORS}]+")
_WORD = re.compile(f"[^{_SEPARATORS}]+")
# How Telegram ends a bot command: at the first character that cannot be in one.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?")


def fold(text: str) -> str:
    """Full-width letters, digits and signs as ASCII: `ＱＳ０１` → `QS01`, `＃１２` → `#12`."""
    return unicodedata.normalize("NFKC", text).strip()


def skip_separators(line: str) -> str:
    """LINE without the spaces and punctuation that lead it (`，完成预审` → `完成预审`)."""
    return _LEADING.sub("", line)


_SEPARATOR = re.compile(f"[{_SEPARATORS}]")


def take_word(line: str) -> tuple[str, str]:
    """The first word of LINE, folded, and the rest with its leading separators dropped.

    A mark that folds to a separator (the small `﹐`, the vertical `︓`, the half-width
    `､`, `🄁` for `0,`) ends the word where the separator it stands for would.
    """
    # One pass over the characters: a line of such marks is read once, not once a mark.
    start = pos = 0
    while pos < len(line):
        char = line[pos]
        if _SEPARATOR.match(char):
            if pos > start:
                break
            start = pos = pos + 1
            continue
        folded = "" if char.isascii() else unicodedata.normalize("NFKC", char)
        cut = _SEPARATOR.search(folded)
        if cut is None:
            pos += 1
            continue
        head = fold(line[start:pos] + folded[: cut.start()])
        tail = folded[cut.end() :]
        if head:
            return head, skip_separators(tail + line[pos + 1 :])
        if tail:  # `🄁` (`0,`) is rare enough to build the rest anew
            line, start, pos = tail + line[pos + 1 :], 0, 0
        else:
            start = pos = pos + 1
    if pos == start:
        return "", ""
    return fold(line[start:pos]), skip_separators(line[pos:])


def raw_words(line: str) -> list[str]:
    """The words of LINE as typed, not folded: names such as `经开区（高新区）` stay whole."""
    return _WORD.findall(line)


def words(line: str) -> list[str]:
    """Every word of LINE, folded: `ＱＳ０１，３` → `["QS01", "3"]`."""
    found: list[str] = []
    word, rest = take_word(line)
    while word:
        found.append(word)
        word, rest = take_word(rest)
    return found


def split_command(text: str) -> tuple[str, str | None, str]:
    """A command line as its name (lower case), the bot it names if any, and the rest.

    `/progress@wallchart_bot QS01，完成` → `("progress", "wallchart_bot", "QS01，完成")`;
    text that is no command gives `("", None, text)`.
    """
    found = _COMMAND.match(text)
    if found is None:
        return "", None, text
    return found.group(1).lower(), found.group(2), text[found.end() :]


_ID_DIGITS = len(str(MAX_ID))


def number(text: str) -> int | None:
    """An id or a milestone number as typed: `12`, `#12`, `１２`, `＃１２`; else None."""
    digits = fold(text).removeprefix("#").strip()
    # Anything larger than an id can be (a phone number typed by mistake) is no id, and
    # the database must not be asked for it. The length is looked at first: Python
    # refuses to read an integer of over 4,300 digits (ValueError).
    if not digits.isascii() or not digits.isdigit():
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > _ID_DIGITS or int(significant) > MAX_ID:
        return None
    return int(significant)
