"""What the leader who gave an instruction (批示) is told when its deadline moves.

An approved request for more time moves the deadline, and the approver's Undo moves it
back: both happen in other handlers (bot.handlers.notices, bot.handlers.undo), and both
tell the leader through the outbox, in his language. Kept apart so that either can use it
without importing the other.
"""

from __future__ import annotations

from datetime import date

from bot.format import day, short
from bot.handlers.base import Call
from bot.texts import t
from storage import instructions
from storage.models import Instruction, Project


async def tell_deadline_moved(
    call: Call, instruction_id: int, old: date | None, new: date | None, *, undone: bool = False
) -> None:
    """Tell the leader who gave instruction INSTRUCTION_ID that its deadline went from OLD
    to NEW (local dates), by the calling member (an approver, or the approver's Undo when
    UNDONE). Nobody is told when the leader is no longer active or made the change."""
    instruction = await call.session.get(Instruction, instruction_id)
    if instruction is None:
        return
    leader = await instructions.leader_of(call.session, instruction)
    if leader is None or leader.id == call.member.id:
        return
    project = await call.session.get(Project, instruction.project_id)
    key = "note.instruction_deadline_undone" if undone else "note.instruction_deadline"
    text = t(
        leader.lang,
        key,
        id=instruction.id,
        code=project.code if project is not None else "?",
        old=day(leader.lang, old),
        date=day(leader.lang, new),
        who=call.member.name,
        unit=call.member.unit.name,
        order=short(instruction.text, 200),
    )
    call.tell(leader.tg_user_id, text, None, leader.id)
