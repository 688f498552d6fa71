"""Settings of the recommendations' follow-up (`ISCFLOW_RECOMMENDATIONS__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.recommendation_policy import RecommendationPolicy


class RecommendationSettings(BaseModel):
    """E.g. ISCFLOW_RECOMMENDATIONS__POLICY__LONG_OUTSTANDING_YEARS=5."""

    policy: RecommendationPolicy = RecommendationPolicy()
    # A recommendation's workflow continues as new when its history reaches this length.
    continue_as_new_after: int = Field(default=2_000, ge=20, le=40_000)
