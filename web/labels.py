"""English labels of the codes pages show (roles, …), marked for the catalogs.

Templates show a code through the `label` filter, which looks its code up in the catalogs;
every code a page may show must therefore be listed here (or in the module of its area).
"""

from __future__ import annotations

from web.i18n import _

ROLE_LABELS = (
    _("focal_point"),
    _("chair"),
    _("executive"),
    _("secretariat"),
    _("auditor"),
    _("admin"),
    _("system"),
)
