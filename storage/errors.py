"""Errors the rules raise; each names a catalog message so the bot can say it in any language."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """An action that is not allowed or not possible; `key` is a message-catalog key."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
