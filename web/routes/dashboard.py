"""The compliance dashboard page: the API's figures, as tables and server-drawn SVG charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from api.routes.dashboard import ViewQuery
from api.routes.recommendations import today
from domain.compliance import GroupBy, GroupFigures
from domain.issues import IssueState
from domain.recommendation_policy import years_after
from domain.recommendation_terms import ACCEPTING, Implementation, Priority, SourceBody
from storage import chart_figures, directory
from storage.dashboard import compliance_view
from web.charts import ChartText, Series, column_chart, line_chart, row_chart
from web.deps import UserDep, WebStateDep
from web.i18n import Locale, _
from web.rendering import render

router = APIRouter(include_in_schema=False)

FIELDS = ("by", "source", "year", "theme", "priority", "owner", "as_of")

SOURCE_NAMES = {
    SourceBody.EXTERNAL_AUDITOR: _("External Auditor"),
    SourceBody.IMAC: _("Independent Management Advisory Committee"),
    SourceBody.JIU: _("Joint Inspection Unit"),
    SourceBody.INTERNAL_AUDIT: _("Internal Audit"),
}
IMPLEMENTATION_NAMES = {
    Implementation.NOT_STARTED: _("Not started"),
    Implementation.IN_PROGRESS: _("In progress"),
    Implementation.IMPLEMENTED: _("Implemented, not yet verified"),
    Implementation.VERIFIED: _("Verified"),
    Implementation.OVERTAKEN_BY_EVENTS: _("Overtaken by events"),
    Implementation.NOT_IMPLEMENTED: _("Not implemented"),
}
ISSUE_STATE_NAMES = {
    IssueState.OPEN: _("Open"),
    IssueState.ESCALATION_REQUESTED: _("Escalation requested"),
    IssueState.ESCALATED: _("Escalated"),
    IssueState.DECIDED: _("Decided"),
    IssueState.RESOLVED: _("Resolved"),
    IssueState.CLOSED: _("Closed"),
    IssueState.WITHDRAWN: _("Withdrawn"),
}
PRIORITY_NAMES = {Priority.HIGH: _("High"), Priority.MEDIUM: _("Medium"), Priority.LOW: _("Low")}
GROUP_NAMES = {
    GroupBy.SOURCE: _("Source body"),
    GroupBy.YEAR: _("Year of the report"),
    GroupBy.THEME: _("Theme"),
    GroupBy.PRIORITY: _("Priority"),
    GroupBy.OWNER: _("Owner"),
    GroupBy.ALL: _("All recommendations together"),
}
FIELD_ERRORS = {
    "by": _("Choose one of the listed groupings."),
    "source": _("Choose one of the listed source bodies."),
    "year": _("Enter a year between 1900 and 2200."),
    "theme": _("Choose one of the listed themes."),
    "priority": _("Choose one of the listed priorities."),
    "owner": _("Enter a user id of at most 64 characters."),
    "as_of": _("Enter a date between 1945 and 2200."),
}


def read_query(params: dict[str, str]) -> tuple[ViewQuery, dict[str, str]]:
    """The view asked for, and the fields that could not be read (left out of the view)."""
    given = {k: params[k].strip() for k in FIELDS if params.get(k, "").strip()}
    try:
        return ViewQuery.model_validate(given), {}
    except ValidationError as error:
        bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        errors = {name: FIELD_ERRORS[name] for name in FIELDS if name in bad}
        kept = {k: v for k, v in given.items() if k not in bad}
        return ViewQuery.model_validate(kept), errors


def age_bands(issued: Sequence[date], as_of: date, long_years: int) -> list[tuple[int, int]]:
    """(lower bound in years, count) per band: under 1, 1 to 2, 2 to 3, 3 to `long_years`, more."""
    edges = [0, *sorted({y for y in (1, 2, 3) if y < long_years}), long_years]
    counts = [0] * len(edges)
    for day in issued:
        band = max(i for i, years in enumerate(edges) if years_after(day, years) <= as_of)
        counts[band] += 1
    return list(zip(edges, counts, strict=True))


def _band_name(lang: Locale, edges: list[int], index: int) -> str:
    low = edges[index]
    if index == len(edges) - 1:
        return lang.gettext("%(years)s years or more") % {"years": lang.number(low)}
    high = edges[index + 1]
    if low == 0:
        return lang.ngettext("Under %(years)s year", "Under %(years)s years", high) % {
            "years": lang.number(high)
        }
    return lang.gettext("%(low)s to %(high)s years") % {
        "low": lang.number(low),
        "high": lang.number(high),
    }


@dataclass(frozen=True)
class Chart:
    """A chart and the table behind it: column headings, then one row of cells per line."""

    key: str
    heading: str
    svg: Markup
    corner: str  # the heading of the column of row names
    columns: list[str]
    rows: list[tuple[str, list[str]]]


def _parts(lang: Locale, names: Sequence[str], values: Sequence[float]) -> str:
    return ", ".join(f"{n} {lang.number(v)}" for n, v in zip(names, values, strict=True) if v)


def _status_chart(lang: Locale, groups: list[GroupFigures], rtl: bool) -> Chart:
    states = list(Implementation)
    bodies = [lang.gettext(SOURCE_NAMES.get(SourceBody(g.group), g.group)) for g in groups]
    names = [lang.gettext(IMPLEMENTATION_NAMES[s]) for s in states]
    series = [
        Series(names[i], tuple(float(g.implementation.get(s, 0)) for g in groups))
        for i, s in enumerate(states)
    ]
    drawn = [item for item in series if any(item.values)]  # the legend names only those drawn
    lines = [
        f"{body}: {_parts(lang, names, [g.implementation.get(s, 0) for s in states])}."
        for body, g in zip(bodies, groups, strict=True)
    ]
    total = sum(g.total for g in groups)
    summary = " ".join(
        [
            lang.gettext("Implementation status of %(count)s recommendations, per source body.")
            % {"count": lang.number(total)},
            *lines,
        ]
    )
    text = ChartText(
        lang.gettext("Implementation status per source body"),
        summary,
        lang.gettext("No recommendation matches these filters."),
    )
    svg = column_chart(
        key="chart-status", text=text, categories=bodies, series=drawn, fmt=lang.number, rtl=rtl
    )
    rows = [
        (body, [*(lang.number(g.implementation.get(s, 0)) for s in states), lang.number(g.total)])
        for body, g in zip(bodies, groups, strict=True)
    ]
    return Chart(
        "status",
        text.title,
        Markup(svg),
        lang.gettext("Source body"),
        [*names, lang.gettext("Total")],
        rows,
    )


def _rate_chart(lang: Locale, years: list[GroupFigures], rtl: bool) -> Chart:
    labels = [g.group for g in years]
    rates = [g.implementation_rate for g in years]
    none = lang.gettext("no accepted recommendation")
    described = [
        f"{label}: {lang.percent(r) if r is not None else none}"
        for label, r in zip(labels, rates, strict=True)
    ]
    summary = lang.gettext(
        "Share of accepted recommendations implemented or verified, by year of the report."
    )
    text = ChartText(
        lang.gettext("Implementation rate by year of the report"),
        " ".join([summary, "; ".join(described) + "."]) if described else summary,
        lang.gettext("No accepted recommendation matches these filters."),
    )
    svg = line_chart(
        key="chart-rate", text=text, categories=labels, values=rates, fmt=lang.percent, rtl=rtl
    )
    rows = [
        (
            g.group,
            [
                lang.percent(g.implementation_rate) if g.implementation_rate is not None else "—",
                lang.number(sum(g.acceptance.get(a, 0) for a in ACCEPTING)),
                lang.number(g.total),
            ],
        )
        for g in years
    ]
    columns = [
        lang.gettext("Implementation rate"),
        lang.gettext("Accepted"),
        lang.gettext("Total"),
    ]
    return Chart("rate", text.title, Markup(svg), lang.gettext("Year of the report"), columns, rows)


def _ageing_chart(
    lang: Locale, issued: list[date], as_of: date, long_years: int, rtl: bool
) -> Chart:
    bands = age_bands(issued, as_of, long_years)
    edges = [low for low, _count in bands]
    names = [_band_name(lang, edges, i) for i in range(len(bands))]
    counts = [float(n) for _low, n in bands]
    summary = lang.gettext(
        "%(count)s open recommendations by time since their report was issued, on %(day)s: "
        "%(bands)s. Those of %(years)s years or more are long-outstanding."
    ) % {
        "count": lang.number(len(issued)),
        "day": lang.day(as_of),
        "bands": "; ".join(f"{n} {lang.number(c)}" for n, c in zip(names, counts, strict=True)),
        "years": lang.number(long_years),
    }
    text = ChartText(
        lang.gettext("Ageing of open recommendations"),
        summary,
        lang.gettext("No open recommendation matches these filters."),
    )
    series = [Series(lang.gettext("Open recommendations"), tuple(counts))]
    svg = column_chart(
        key="chart-ageing", text=text, categories=names, series=series, fmt=lang.number, rtl=rtl
    )
    rows = [(n, [lang.number(c)]) for n, c in zip(names, counts, strict=True)]
    corner, column = lang.gettext("Time since the report"), lang.gettext("Open recommendations")
    return Chart("ageing", text.title, Markup(svg), corner, [column], rows)


def _issues_chart(
    lang: Locale, counts: dict[tuple[str, str], int], themes: dict[str, str], rtl: bool
) -> Chart:
    theme_of = {t: themes.get(t) or t for t, _s in counts}
    codes = sorted(theme_of, key=lambda c: theme_of[c].casefold())
    states = [s for s in IssueState if any(k[1] == s.value for k in counts)]
    theme_names = [theme_of[c] for c in codes]
    state_names = [lang.gettext(ISSUE_STATE_NAMES[s]) for s in states]
    series = [
        Series(state_names[i], tuple(float(counts.get((c, s.value), 0)) for c in codes))
        for i, s in enumerate(states)
    ]
    lines = [
        f"{name}: {_parts(lang, state_names, [counts.get((c, s.value), 0) for s in states])}."
        for name, c in zip(theme_names, codes, strict=True)
    ]
    summary = " ".join(
        [
            lang.gettext("%(count)s key issues, per theme and state.")
            % {"count": lang.number(sum(counts.values()))},
            *lines,
        ]
    )
    text = ChartText(
        lang.gettext("Key issues per theme and state"),
        summary,
        lang.gettext("No key issue has been raised yet."),
    )
    svg = row_chart(
        key="chart-issues", text=text, categories=theme_names, series=series, fmt=lang.number,
        rtl=rtl,
    )  # fmt: skip
    rows = [
        (
            name,
            [
                *(lang.number(counts.get((c, s.value), 0)) for s in states),
                lang.number(sum(counts.get((c, s.value), 0) for s in states)),
            ],
        )
        for name, c in zip(theme_names, codes, strict=True)
    ]
    return Chart(
        "issues",
        text.title,
        Markup(svg),
        lang.gettext("Theme"),
        [*state_names, lang.gettext("Total")],
        rows,
    )


def _group_name(lang: Locale, by: GroupBy, group: str, themes: dict[str, str]) -> str:
    if by is GroupBy.SOURCE:
        return lang.gettext(SOURCE_NAMES.get(SourceBody(group), group))
    if by is GroupBy.THEME:
        return themes.get(group, group)
    if by is GroupBy.PRIORITY:
        return lang.gettext(PRIORITY_NAMES.get(Priority(group), group))
    if by is GroupBy.ALL:
        return lang.gettext("All recommendations")
    return group


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    lang = user.locale
    query, errors = read_query(dict(request.query_params))
    policy = state.settings.recommendations.policy
    as_of = query.as_of or today(policy)
    years = policy.long_outstanding_years
    where = query.filter()
    rtl = lang.direction == "rtl"
    with Session(state.engine) as session:
        themes = {t.code: t.name for t in directory.list_themes(session=session)}
        groups, total = compliance_view(
            session=session, by=query.by, where=where, as_of=as_of, years=years
        )
        bodies, _all = compliance_view(
            session=session, by=GroupBy.SOURCE, where=where, as_of=as_of, years=years
        )
        by_year, _all = compliance_view(
            session=session, by=GroupBy.YEAR, where=where, as_of=as_of, years=years
        )
        issued = chart_figures.open_issue_dates(session=session, where=where)
        issues = chart_figures.issues_by_theme_and_state(session=session, theme=query.theme)
    charts = [
        _status_chart(lang, bodies, rtl),
        _rate_chart(lang, by_year, rtl),
        _ageing_chart(lang, issued, as_of, years, rtl),
        _issues_chart(lang, issues, themes, rtl),
    ]
    context: dict[str, Any] = {
        "query": query,
        "given": {k: request.query_params.get(k, "") for k in FIELDS},
        "errors": {k: lang.gettext(v) for k, v in errors.items()},
        "as_of": as_of,
        "long_years": years,
        "grouping": lang.gettext(GROUP_NAMES[query.by]),
        "groups": [(_group_name(lang, query.by, g.group, themes), g) for g in groups],
        "total": total,
        "charts": charts,
        "themes": themes,
        "sources": [(s.value, SOURCE_NAMES[s]) for s in SourceBody],
        "priorities": [(p.value, PRIORITY_NAMES[p]) for p in Priority],
        "groupings": [(g.value, GROUP_NAMES[g]) for g in GroupBy],
    }
    return render(
        request,
        "dashboard/index.html",
        user=user,
        status_code=422 if errors else 200,
        title=lang.gettext("Compliance dashboard"),
        **context,
    )
