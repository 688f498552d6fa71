"""Repository functions for meetings and their agendas."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from domain.audit import AuditContent
from domain.meetings import Meeting, MeetingEvent
from storage import audit
from storage.models import AgendaItemRow, IssueRow, MeetingRow
from storage.repository import audit_exists

OPEN_MEETING_STATES = ("scheduled", "agenda_sent")


def apply_meeting_event(
    *, session: Session, meeting: Meeting, event: MeetingEvent, recorded_at: datetime
) -> bool:
    """Write the meeting, its agenda and the audit row; False if already recorded."""
    audit.lock_stream(session, event.stream)
    if audit_exists(session=session, key=event.key):
        return False
    row = session.get(MeetingRow, meeting.number)
    values = {
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "place": meeting.place,
        "virtual_link": meeting.virtual_link,
        "state": meeting.state.value,
        "agenda_sent_at": meeting.agenda_sent_at,
        "held_at": meeting.held_at,
        "minutes_recorded_at": meeting.minutes_recorded_at,
        "version": meeting.version,
        "updated_at": meeting.updated_at,
    }
    if row is None:
        row = MeetingRow(number=meeting.number, created_at=meeting.created_at, **values)  # type: ignore[arg-type]
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    session.execute(
        delete(AgendaItemRow).where(col(AgendaItemRow.meeting_number) == meeting.number)
    )
    for position, item in enumerate(meeting.items, start=1):
        session.add(
            AgendaItemRow(
                meeting_number=meeting.number,
                item_id=item.item_id,
                position=position,
                kind=item.kind.value,
                issue_id=item.issue_id,
                theme_code=item.theme,
                title=item.title,
                outcome=item.outcome.value if item.outcome else None,
                decision_text=item.decision_text,
            )
        )
    audit.append(
        session=session,
        content=AuditContent(
            stream=event.stream,
            sequence=event.sequence,
            idempotency_key=event.key,
            entity_type="meeting",
            entity_id=str(meeting.number),
            action=event.name,
            actor_id=event.actor_id,
            actor_role=event.actor_role.value,
            from_state=event.from_state.value if event.from_state else None,
            to_state=event.to_state.value,
            payload=event.model_dump(mode="json")["data"],
            occurred_at=event.at,
        ),
        recorded_at=recorded_at,
    )
    return True


def record_history(
    *, session: Session, number: int, title: str, starts_at: datetime, now: datetime
) -> bool:
    """A past meeting kept as a record only (no workflow); False if it exists."""
    if session.get(MeetingRow, number) is not None:
        return False
    session.add(
        MeetingRow(
            number=number,
            title=title,
            starts_at=starts_at,
            state="minutes_recorded",
            historical=True,
            held_at=starts_at,
            minutes_recorded_at=starts_at,
            created_at=now,
            updated_at=now,
        )
    )
    return True


def get_meeting(*, session: Session, number: int) -> MeetingRow | None:
    return session.get(MeetingRow, number)


def agenda(*, session: Session, number: int) -> list[AgendaItemRow]:
    rows = session.exec(
        select(AgendaItemRow)
        .where(AgendaItemRow.meeting_number == number)
        .order_by(col(AgendaItemRow.position))
    ).all()
    return list(rows)


def list_meetings(
    *, session: Session, state: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[MeetingRow], int]:
    query = select(MeetingRow)
    if state is not None:
        query = query.where(MeetingRow.state == state)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(MeetingRow.number).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def next_number(*, session: Session) -> int:
    highest = session.exec(select(func.max(MeetingRow.number))).one()
    return int(highest or 0) + 1


def issues_awaiting_a_meeting(*, session: Session, level: int) -> list[IssueRow]:
    """Issues escalated to `level`, undecided, not on the agenda of a meeting still to come."""
    booked = (
        select(AgendaItemRow.issue_id)
        .join(MeetingRow, col(MeetingRow.number) == col(AgendaItemRow.meeting_number))
        .where(
            col(MeetingRow.state).in_(OPEN_MEETING_STATES),
            col(AgendaItemRow.issue_id).is_not(None),
        )
    )
    rows = session.exec(
        select(IssueRow)
        .where(
            IssueRow.state == "escalated",
            IssueRow.level == level,
            col(IssueRow.id).not_in(booked),
        )
        .order_by(col(IssueRow.updated_at))
    ).all()
    return list(rows)
