"""The vocabulary of oversight recommendations: bodies, status axes, the business key.

Acceptance and implementation are separate axes, as in the JIU's tracking system.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator


class SourceBody(StrEnum):
    EXTERNAL_AUDITOR = "external_auditor"
    IMAC = "imac"  # Independent Management Advisory Committee
    JIU = "jiu"  # Joint Inspection Unit of the United Nations system
    INTERNAL_AUDIT = "internal_audit"


class Addressee(StrEnum):
    EXECUTIVE_HEAD = "executive_head"
    LEGISLATIVE_ORGAN = "legislative_organ"


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Acceptance(StrEnum):
    UNDER_CONSIDERATION = "under_consideration"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    NOT_ACCEPTED = "not_accepted"
    NOT_RELEVANT = "not_relevant"


class Implementation(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"  # claimed by the owner
    VERIFIED = "verified"  # confirmed by an auditor
    OVERTAKEN_BY_EVENTS = "overtaken_by_events"
    NOT_IMPLEMENTED = "not_implemented"


class ReminderKind(StrEnum):
    DUE = "due"  # before the target date
    OVERDUE = "overdue"  # after it


ACCEPTING = frozenset({Acceptance.ACCEPTED, Acceptance.PARTIALLY_ACCEPTED})
OPEN_ACCEPTANCE = frozenset({Acceptance.UNDER_CONSIDERATION, *ACCEPTING})
DECLINED = frozenset({Acceptance.NOT_ACCEPTED, Acceptance.NOT_RELEVANT})
UNDER_WAY = frozenset({Implementation.NOT_STARTED, Implementation.IN_PROGRESS})
OPEN_IMPLEMENTATION = frozenset({*UNDER_WAY, Implementation.IMPLEMENTED})
CLOSURES = frozenset({Implementation.OVERTAKEN_BY_EVENTS, Implementation.NOT_IMPLEMENTED})
DONE = frozenset({Implementation.IMPLEMENTED, Implementation.VERIFIED})
ALL_ACCEPTANCE = frozenset(Acceptance)
ALL_IMPLEMENTATION = frozenset(Implementation)

# No NUL character: PostgreSQL refuses it, and a recorded step must always be storable.
_PRINTABLE = r"^[^\x00]*$"
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000, pattern=_PRINTABLE),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=200, pattern=_PRINTABLE),
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=_PRINTABLE)
]
Symbol = Code
# Days the follow-up can reason about (its date arithmetic stays within Python's range).
Day = Annotated[date, Field(ge=date(1945, 1, 1), le=date(2200, 12, 31))]
RiskRef = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
]
Link = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$", max_length=500)
]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(symbol: str) -> str:
    """The symbol as it appears in ids: lower case, runs of other characters become '-'."""
    return _NOT_SLUG.sub("-", symbol.lower()).strip("-")


def recommendation_id(source: SourceBody, symbol: str, number: int) -> str:
    """The business key `rec-<source>-<symbol>-<n>`; also the workflow id and audit stream."""
    return f"rec-{source.value}-{slug(symbol)}-{number}"


class RecordData(BaseModel):
    """What the secretariat keeps about a recommendation (everything but its status)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issued_on: Day
    title: Title
    text: Text
    addressee: Addressee = Addressee.EXECUTIVE_HEAD
    owner_id: Code
    theme: Code
    priority: Priority = Priority.MEDIUM
    target_date: Day | None = None
    risk_ids: tuple[RiskRef, ...] = ()

    @field_validator("risk_ids")
    @classmethod
    def _sorted_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    @property
    def report_year(self) -> int:
        return self.issued_on.year


def is_open(acceptance: Acceptance, implementation: Implementation) -> bool:
    """Open: still under consideration, or accepted and not yet verified or closed."""
    return acceptance in OPEN_ACCEPTANCE and implementation in OPEN_IMPLEMENTATION
