"""PTB persistence in the store, so guided flows survive a restart and a takeover.

Only two things are kept: the conversation states of the flows and each user's flow
scratch data. Bot and chat data are not used by Wallchart; the records are the truth.

PTB writes persistence on a timer, after the handler's own commit: a crash between the
two would lose a flow's step that the inbox counts as handled. So the handlers write the
flow's state in their own transaction (bot.handlers.base.guarded), and this class only
reads it, when the Application starts (PTB's ConversationHandler reads persisted state
only then: a standby process builds its Application when it takes over, not before).
"""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import flows
from storage.db import SessionMaker

USER_SCOPE = "user"


class StorePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Flow state in the `chat_state` table; every write goes to the store at once."""

    def __init__(self, sessions: SessionMaker, update_interval: float = 2.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions

    async def _load(self, scope: str) -> dict[str, Any]:
        async with self._sessions() as session:
            return await flows.load(session, scope)

    async def _save(self, scope: str, key: str, data: Any) -> None:
        async with self._sessions() as session, session.begin():
            await flows.save(session, scope, key, data)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {int(k): dict(v) for k, v in (await self._load(USER_SCOPE)).items()}

    # Written by the handlers, in their own transaction (see the module's docstring).
    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        await self._save(USER_SCOPE, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass

    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await self._load(f"conv:{name}")
        return {tuple(json.loads(k)): v for k, v in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        pass  # written by the handlers, in their own transaction

    # Chat data, bot data and callback data are not kept (store_data says so).
    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        pass

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        pass

    async def flush(self) -> None:
        pass
