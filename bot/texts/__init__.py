"""The message catalog: every user-facing text, in Chinese and English.

Each module of this package holds one concern's texts as two dicts, `ZH` and `EN`, with the
same keys and the same placeholders (a test checks). `t()` escapes the values it fills in,
so a name with `<` in it cannot break the HTML the bot sends.

English plurals: `{n:s/milestone/milestones}` is the word for N (the number itself is
written apart, `{n}`), so "1 milestone" and "2 milestones" come from one template.
"""

from __future__ import annotations

import html
import string
from typing import Any, Final

from bot.texts import (
    briefing,
    charts,
    core,
    delivery,
    groups,
    instructions,
    ledger,
    rank,
    scheduler,
    today,
    undo,
)

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"

CATALOG: Final[dict[str, dict[str, str]]] = {
    "zh": {
        **core.ZH,
        **ledger.ZH,
        **scheduler.ZH,
        **delivery.ZH,
        **today.ZH,
        **undo.ZH,
        **briefing.ZH,
        **charts.ZH,
        **instructions.ZH,
        **rank.ZH,
        **groups.ZH,
    },
    "en": {
        **core.EN,
        **ledger.EN,
        **scheduler.EN,
        **delivery.EN,
        **today.EN,
        **undo.EN,
        **briefing.EN,
        **charts.EN,
        **instructions.EN,
        **rank.EN,
        **groups.EN,
    },
}


class Raw(str):
    """Text already in HTML (a formatted block) that `t()` must not escape again."""

    __slots__ = ()


def _escape(value: Any) -> Any:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


class _Formatter(string.Formatter):
    """str.format with one more spec: `{n:s/one/many}` gives the word for the count N."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec.startswith("s/"):
            one, _, many = format_spec[2:].partition("/")
            return one if value == 1 else many
        return super().format_field(value, format_spec)


_FORMATTER: Final = _Formatter()


def t(lang: str, key: str, **params: Any) -> str:
    """The text for KEY in LANG (Chinese when unknown), with PARAMS escaped and filled in."""
    table = CATALOG.get(lang, CATALOG[DEFAULT_LANG])
    template = table.get(key) or CATALOG[DEFAULT_LANG].get(key) or key
    values = {k: _escape(v) for k, v in params.items()}
    # str.format is several times faster than a Formatter: a tick renders thousands.
    if ":s/" in template:
        return _FORMATTER.format(template, **values)
    return template.format(**values)


def both(key: str, **params: Any) -> str:
    """The text in Chinese and then English, for people whose language is not known yet."""
    return t("zh", key, **params) + "\n\n" + t("en", key, **params)
