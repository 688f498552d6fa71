"""The navigation bar: which pages each role sees (the server still checks every action)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.roles import Role
from web.i18n import _

EVERYONE = frozenset(r for r in Role if r is not Role.SYSTEM)
STAFF = frozenset({Role.CHAIR, Role.SECRETARIAT, Role.EXECUTIVE, Role.ADMIN})


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    roles: frozenset[Role]
    embedded_only: bool = False


NAV: tuple[NavItem, ...] = (
    NavItem("/", _("Waiting for me"), EVERYONE),
    NavItem("/issues", _("Issues"), EVERYONE),
    NavItem("/approvals", _("Approval queue"), frozenset({Role.CHAIR, Role.EXECUTIVE})),
    NavItem("/meetings", _("Meetings"), EVERYONE),
    NavItem("/recommendations", _("Recommendations"), EVERYONE),
    NavItem("/risks", _("Risk register"), EVERYONE),
    NavItem("/dashboard", _("Dashboard"), EVERYONE),
    NavItem("/mapping", _("Mapping table"), EVERYONE),
    NavItem("/reports", _("Reports"), STAFF | {Role.AUDITOR}),
    NavItem("/outbox", _("Mail outbox"), frozenset({Role.SECRETARIAT, Role.ADMIN}), True),
    NavItem("/preferences", _("Preferences"), EVERYONE),
)


def items_for(role: Role, *, embedded: bool) -> list[NavItem]:
    return [i for i in NAV if role in i.roles and (embedded or not i.embedded_only)]
