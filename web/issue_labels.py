"""English labels of the issue codes pages show through the `label` filter, for the catalogs.

States, decision outcomes, audit-trail steps, ladder levels, reminder kinds, and the names of
the organisation's sectors and themes (a theme added later shows its name untranslated).
"""

from __future__ import annotations

from web.i18n import _

STATE_LABELS = (
    _("open"),
    _("escalation_requested"),
    _("escalated"),
    _("decided"),
    _("resolved"),
    _("closed"),
    _("withdrawn"),
)

OUTCOME_LABELS = (
    _("resolved"),
    _("referred_back"),
    _("escalated_further"),
    _("deferred"),
)

EVENT_LABELS = (
    _("IssueRaised"),
    _("CommentAdded"),
    _("IssueResolved"),
    _("EscalationRequested"),
    _("EscalationApproved"),
    _("EscalationReturned"),
    _("DecisionRecorded"),
    _("IssueClosed"),
    _("IssueWithdrawn"),
    _("DeadlineChanged"),
    _("ReminderSent"),
)

REMINDER_LABELS = (
    _("discussion"),
    _("approval_pending"),
)

LEVEL_LABELS = (
    _("Focal points"),
    _("ISC-TF"),
    _("Coordination Committee"),
)

SECTOR_LABELS = (
    _("Radiocommunication Sector"),
    _("Telecommunication Standardization Sector"),
    _("Telecommunication Development Sector"),
    _("General Secretariat"),
)

THEME_LABELS = (
    _("Accessibility"),
    _("Emerging trends and artificial intelligence"),
    _("Bridging the standardization gap"),
    _("Communication and publicity"),
    _("Community networks"),
    _("Emergency telecommunications"),
    _("Environment and sustainable smart cities and communities"),
    _("Coordination of major events"),
    _("Gender"),
    _("Geospatial activities"),
    _("Membership, resource mobilization and SMEs"),
    _("Multilingualism"),
    _("Digital transformation"),
)
