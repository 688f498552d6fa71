"""Importing the risk register from CSV or XLSX: each row validated, each change audited."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Engine

from domain.errors import DomainError
from domain.risks import RiskData, check_risk
from domain.roles import Actor
from iscflow.recommendation_import import RowError
from iscflow.tables import SourceRow, Table, TableError
from storage import directory, risks
from storage.db import session_scope

COLUMNS = (
    "id",
    "title",
    "description",
    "owner",
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
    "treatment",
)


def _check_columns(table: Table) -> None:
    missing = [c for c in COLUMNS if c not in table.columns]
    unknown = [c for c in table.columns if c and c not in COLUMNS]
    if missing or unknown:
        raise TableError(
            f"the columns are {', '.join(COLUMNS)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )


def parse_risk(row: SourceRow, actor: Actor) -> tuple[str, RiskData] | list[RowError]:
    """One row as (risk id, data), or its problems."""
    cells = dict(row.cells)
    risk_id = cells.pop("id", "")
    if not risk_id:
        return [RowError(line=row.line, field="id", message="id is required")]
    cells["owner_id"] = cells.pop("owner", "")
    try:
        data = RiskData.model_validate(cells)  # text cells, converted by pydantic
        check_risk(data, actor)
    except ValidationError as error:
        return [
            RowError(line=row.line, field=_field(e["loc"]), message=e["msg"])
            for e in error.errors()
        ]
    except DomainError as error:
        field = str(getattr(error, "field", "row"))
        return [RowError(line=row.line, field=field, message=error.message)]
    return risk_id, data


def _field(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]) if loc else "row"
    return "owner" if name == "owner_id" else name


def import_risks(
    engine: Engine, table: Table, actor: Actor, now: datetime
) -> tuple[Counter[str], list[RowError]]:
    """Save every valid row (created, updated or unchanged); report the others."""
    _check_columns(table)
    outcomes: Counter[str] = Counter()
    errors: list[RowError] = []
    seen: set[str] = set()
    for row in table.rows:
        parsed = parse_risk(row, actor)
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        risk_id, data = parsed
        if risk_id in seen:
            errors.append(RowError(line=row.line, field="id", message=f"{risk_id} is repeated"))
            continue
        seen.add(risk_id)
        with session_scope(engine) as session:
            if directory.get_user(session=session, user_id=data.owner_id) is None:
                message = f"no user {data.owner_id!r}"
                errors.append(RowError(line=row.line, field="owner", message=message))
                continue
            _, saved = risks.save_risk(
                session=session, risk_id=risk_id, data=data, actor=actor, now=now
            )
        outcomes[saved.value] += 1
    return outcomes, errors
