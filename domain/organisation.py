"""Sectors and thematic areas of the organisation (DESIGN §1)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Sector(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    bureau: str


class Theme(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str


SECTORS: tuple[Sector, ...] = (
    Sector(code="ITU-R", name="Radiocommunication Sector", bureau="BR"),
    Sector(code="ITU-T", name="Telecommunication Standardization Sector", bureau="TSB"),
    Sector(code="ITU-D", name="Telecommunication Development Sector", bureau="BDT"),
    Sector(code="GS", name="General Secretariat", bureau="GS"),
)

# The thematic areas of the task force, as listed in the Resolution 191 report.
THEMES: tuple[Theme, ...] = (
    Theme(code="accessibility", name="Accessibility"),
    Theme(code="emerging-ai", name="Emerging trends and artificial intelligence"),
    Theme(code="standardization-gap", name="Bridging the standardization gap"),
    Theme(code="communication", name="Communication and publicity"),
    Theme(code="community-networks", name="Community networks"),
    Theme(code="emergency-telecom", name="Emergency telecommunications"),
    Theme(
        code="environment-smart-cities",
        name="Environment and sustainable smart cities and communities",
    ),
    Theme(code="major-events", name="Coordination of major events"),
    Theme(code="gender", name="Gender"),
    Theme(code="geospatial", name="Geospatial activities"),
    Theme(code="membership-smes", name="Membership, resource mobilization and SMEs"),
    Theme(code="multilingualism", name="Multilingualism"),
    Theme(code="digital-transformation", name="Digital transformation"),
)
