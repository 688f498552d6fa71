"""A refused command, as a page shows it: a translated reason, the status, the field.

The domain explains a refusal in English (`CommandRejected.message`); pages lead with a
translated sentence built from what is machine readable (the status, the current state, the
field) and keep the domain's own words beneath it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from iscflow.issue_commands import CommandRejected
from web.i18n import Locale


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # translated
    detail: str  # the system's own words, in English
    form: str | None = None  # which form of the page was refused
    field: str | None = None  # which field of that form


def from_rejection(
    rejected: CommandRejected,
    locale: Locale,
    *,
    form: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Refusal:
    """The page's view of `rejected`; `fields` maps the command's field names to the form's."""
    gettext = locale.gettext
    field = rejected.details.get("field")
    if rejected.status == 403:
        reason = gettext("Your role, or your ownership of this record, does not allow this step.")
    elif rejected.status == 409:
        state = rejected.details.get("current_state")
        reason = (
            gettext("This step is not possible in the current state: %(state)s.")
            % {"state": gettext(str(state))}
            if state
            else gettext("This step is not possible now.")
        )
    elif rejected.status == 422:
        reason = gettext("Check the highlighted field and send the form again.")
    elif rejected.status == 404:
        reason = gettext("This record does not exist.")
    else:
        reason = gettext("The system could not take this step now. Check, then try again.")
    name = (fields or {}).get(str(field), str(field)) if field else None
    return Refusal(rejected.status, reason, rejected.message, form=form, field=name)


def from_validation(
    error: ValidationError, locale: Locale, *, form: str, fields: Mapping[str, str] | None = None
) -> Refusal:
    """A form whose data the command's model refuses (422, naming the first bad field)."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "form"
    name = (fields or {}).get(field, field)
    return Refusal(
        422,
        locale.gettext("Check the highlighted field and send the form again."),
        f"{field}: {first['msg']}",
        form=form,
        field=name,
    )


def invalid(locale: Locale, *, form: str, field: str, detail: str) -> Refusal:
    """A form field the page itself could not read (a date, a number)."""
    return Refusal(
        422,
        locale.gettext("Check the highlighted field and send the form again."),
        detail,
        form=form,
        field=field,
    )


def forbidden(locale: Locale, detail: str) -> Refusal:
    return Refusal(
        403,
        locale.gettext("Your role, or your ownership of this record, does not allow this step."),
        detail,
    )
