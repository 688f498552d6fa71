"""Which issue actions a user may take, and how a page sends one.

The offer uses the API's own check (`api.rights.authorise`) and the domain's (`Issue.check`,
which applies the transition table and the ladder), so a page shows a form exactly when the
API and the workflow would accept the command. Sending goes through the same command objects
as the API; a refusal comes back as a `Refusal` a page can show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import Any

from pydantic import ValidationError

from api.errors import ApiError
from api.rights import IssueAction, authorise
from domain.errors import DomainError
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssueCommand,
    IssueState,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SetDeadline,
    WithdrawIssue,
)
from domain.ladder import Ladder
from domain.roles import Actor
from iscflow.issue_commands import CommandRejected, IssueCommands
from storage.models import IssueRow
from web.i18n import TIMEZONE, Locale, _

# One representative command per action, to ask the domain whether it would be accepted.
_FAR = datetime(2999, 1, 1, tzinfo=UTC)
SAMPLES: dict[IssueAction, IssueCommand] = {
    IssueAction.COMMENT: AddComment(body="?"),
    IssueAction.RESOLVE: ResolveIssue(resolution="?"),
    IssueAction.REQUEST_ESCALATION: RequestEscalation(reason="?"),
    IssueAction.DECIDE_ESCALATION: ApproveEscalation(),
    IssueAction.RECORD_DECISION: RecordDecision(outcome=DecisionOutcome.RESOLVED, text="?"),
    IssueAction.CLOSE: CloseIssue(),
    IssueAction.WITHDRAW: WithdrawIssue(reason="?"),
    IssueAction.SET_DEADLINE: SetDeadline(deadline=_FAR),
}

# Form fields as the pages name them, and the words a refusal uses for each.
FIELD_LABELS: dict[str, str] = {
    "title": _("Title"),
    "description": _("Description"),
    "theme": _("Theme"),
    "body": _("Comment"),
    "resolution": _("Resolution"),
    "reason": _("Reason"),
    "note": _("Note"),
    "outcome": _("Outcome"),
    "text": _("Decision"),
    "new_deadline": _("New deadline"),
    "deadline": _("New deadline"),
}

# The domain's refusals of data, in words a translator can render.
DOMAIN_MESSAGES: dict[str, str] = {
    "the issue is already at the top of the escalation ladder": _(
        "The issue is already at the top of the escalation ladder."
    ),
    "a new deadline applies only to a decision that refers the issue back": _(
        "A new deadline applies only to a decision that refers the issue back."
    ),
    "the new deadline must be in the future": _("The new deadline must be in the future."),
}


def domain_issue(row: IssueRow, ladder: Ladder) -> Issue:
    """The domain's view of a read-model row, enough to check rights and transitions."""
    return Issue(
        id=row.id,
        title=row.title,
        description=row.description,
        theme=row.theme_code,
        sector=row.sector_code,
        author_id=row.author_id,
        state=IssueState(row.state),
        level=row.level,
        requested_level=row.requested_level,
        discussion_deadline=row.discussion_deadline,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ladder=ladder,
    )


def may(action: IssueAction, actor: Actor, ladder: Ladder, row: IssueRow) -> bool:
    """True if the API and the domain would both accept `action` by `actor` on `row` now."""
    try:
        authorise(action, actor, ladder, row)
        domain_issue(row, ladder).check(SAMPLES[action], actor)
    except (ApiError, DomainError):
        return False
    return True


def allowed_actions(actor: Actor, ladder: Ladder, row: IssueRow) -> frozenset[IssueAction]:
    return frozenset(a for a in SAMPLES if may(a, actor, ladder, row))


def decision_outcomes(ladder: Ladder, row: IssueRow) -> list[DecisionOutcome]:
    """The outcomes a decision may have at the issue's level (no escalation past the top)."""
    return [
        o
        for o in DecisionOutcome
        if o is not DecisionOutcome.ESCALATED_FURTHER or ladder.next_level(row.level) is not None
    ]


@dataclass(frozen=True)
class Refusal:
    """A command the system refused: status, a translated message, and the field at fault."""

    status: int
    message: str
    field: str | None = None
    current_state: str | None = None
    values: dict[str, str] = dataclasses.field(default_factory=dict)


def deadline_of(day: str) -> datetime | None:
    """A date from a form (YYYY-MM-DD) as the end of that working day in Geneva."""
    if not day.strip():
        return None
    parsed = datetime.strptime(day.strip(), "%Y-%m-%d").date()
    return datetime.combine(parsed, time(18, 0), tzinfo=TIMEZONE).astimezone(UTC)


def validation_refusal(error: ValidationError, locale: Locale) -> Refusal:
    """422 naming the first field pydantic refused."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "body"
    kind = str(first["type"])
    if kind in {"missing", "string_too_short"} and name == "title":
        message = locale.gettext("Give a title of at least 3 characters.")
    elif kind in {"missing", "string_too_short"}:
        message = locale.gettext("Fill in this field.")
    elif kind == "string_too_long":
        message = locale.gettext("This text is too long.")
    else:
        message = locale.gettext("This value is not accepted.")
    return Refusal(422, message, field=name)


def refusal_of(rejected: CommandRejected | ApiError, locale: Locale) -> Refusal:
    """A translated refusal of a command the API check or the workflow refused."""
    details: dict[str, Any] = dict(rejected.details)
    status = rejected.status
    if status == 403:
        return Refusal(403, locale.gettext("Your role or themes do not allow this action."))
    if status == 409:
        state = details.get("current_state")
        if state:
            message = locale.gettext("This action is not possible now: the issue is %(state)s.") % {
                "state": locale.gettext(str(state))
            }
        else:
            message = locale.gettext("This action is not possible in the issue's current state.")
        return Refusal(409, message, current_state=str(state) if state else None)
    if status == 422:
        known = DOMAIN_MESSAGES.get(rejected.message)
        text = locale.gettext(known) if known else locale.gettext("This value is not accepted.")
        return Refusal(422, text, field=details.get("field"))
    if status == 404:
        return Refusal(404, locale.gettext("There is no such issue."))
    return Refusal(
        503,
        locale.gettext(
            "The system did not answer in time. The action may still be applied: "
            "reload the page before trying again."
        ),
    )


async def send(
    commands: IssueCommands,
    *,
    actor: Actor,
    ladder: Ladder,
    row: IssueRow,
    action: IssueAction,
    command: IssueCommand,
    locale: Locale,
) -> Issue | Refusal:
    """Check as the API does, then deliver `command` to the issue's workflow."""
    try:
        authorise(action, actor, ladder, row)
    except ApiError as refused:
        return refusal_of(refused, locale)
    try:
        return await commands.send(row.id, actor, command)
    except CommandRejected as rejected:
        return refusal_of(rejected, locale)


def _text(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def _day(form: dict[str, str], name: str) -> datetime | None:
    try:
        return deadline_of(form.get(name, ""))
    except ValueError:
        raise BadDate(name) from None


class BadDate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


Builder = Callable[[dict[str, str]], IssueCommand]


@dataclass(frozen=True)
class Verb:
    """One form of the issue page: the right it needs, its command, what success says."""

    action: IssueAction
    build: Builder
    done: str
    fields: tuple[str, ...]


VERBS: dict[str, Verb] = {
    "comment": Verb(
        IssueAction.COMMENT,
        lambda f: AddComment(body=f.get("body", "")),
        _("Your comment is added."),
        ("body",),
    ),
    "resolve": Verb(
        IssueAction.RESOLVE,
        lambda f: ResolveIssue(resolution=f.get("resolution", "")),
        _("The issue is resolved."),
        ("resolution",),
    ),
    "escalation-request": Verb(
        IssueAction.REQUEST_ESCALATION,
        lambda f: RequestEscalation(reason=f.get("reason", "")),
        _("Escalation is requested; the approver is told."),
        ("reason",),
    ),
    "approve": Verb(
        IssueAction.DECIDE_ESCALATION,
        lambda f: ApproveEscalation(note=_text(f, "note")),
        _("The escalation request is approved."),
        ("note",),
    ),
    "return": Verb(
        IssueAction.DECIDE_ESCALATION,
        lambda f: ReturnEscalation(
            reason=f.get("reason", ""), new_deadline=_day(f, "new_deadline")
        ),
        _("The escalation request is returned to the focal points."),
        ("reason", "new_deadline"),
    ),
    "decision": Verb(
        IssueAction.RECORD_DECISION,
        lambda f: RecordDecision.model_validate(
            {
                "outcome": f.get("outcome", ""),
                "text": f.get("text", ""),
                "new_deadline": _day(f, "new_deadline"),
            }
        ),
        _("The decision is recorded."),
        ("outcome", "text", "new_deadline"),
    ),
    "close": Verb(
        IssueAction.CLOSE,
        lambda f: CloseIssue(note=_text(f, "note")),
        _("The issue is closed."),
        ("note",),
    ),
    "withdraw": Verb(
        IssueAction.WITHDRAW,
        lambda f: WithdrawIssue(reason=f.get("reason", "")),
        _("The issue is withdrawn."),
        ("reason",),
    ),
    "deadline": Verb(
        IssueAction.SET_DEADLINE,
        lambda f: SetDeadline.model_validate(
            {"deadline": _day(f, "deadline"), "reason": _text(f, "reason")}
        ),
        _("The discussion deadline is moved."),
        ("deadline", "reason"),
    ),
}


async def perform(
    commands: IssueCommands,
    *,
    verb: Verb,
    form: dict[str, str],
    actor: Actor,
    ladder: Ladder,
    row: IssueRow,
    locale: Locale,
) -> Issue | Refusal:
    """Build `verb`'s command from `form` and send it; a Refusal keeps what was typed."""
    values = {name: form.get(name, "") for name in verb.fields}
    try:
        command = verb.build(form)
    except ValidationError as error:
        return replace(validation_refusal(error, locale), values=values)
    except BadDate as error:
        return Refusal(422, locale.gettext("Enter a date."), field=error.name, values=values)
    result = await send(
        commands, actor=actor, ladder=ladder, row=row, action=verb.action,
        command=command, locale=locale,
    )  # fmt: skip
    return replace(result, values=values) if isinstance(result, Refusal) else result
