"""Config models of the screening rules (the ``rules`` section of a run's config).

Rule values live in ``census/resources/rules.yaml`` with unit and source; a user's
TOML overrides them per category, e.g. ``[rules.categories.pond] min_area_m2 = 5000``.
The rules themselves are applied by :mod:`census.sites.screen`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from census.settings.base import Strict

__all__ = ["AttributeRule", "CategoryRules", "ExclusionRule", "RulesConfig"]


class ExclusionRule(Strict):
    """An exclusion layer applied to a category, with a buffer [m]."""

    layer: str = Field(description="Name of an [exclusions.<name>] layer of the run config.")
    buffer_m: float = Field(0.0, ge=0.0, description="Buffer around the layer's features [m].")
    mode: Literal["cut", "drop"] = Field(
        "cut", description="'cut' removes the zone from the site; 'drop' excludes the site."
    )
    code: str = Field(description="Stable reason code written to exclusion_reasons.")
    optional: bool = Field(
        False, description="Skip the rule when the run has no such layer ('where given')."
    )


class AttributeRule(Strict):
    """A rule on a site attribute: allowed values or excluded values."""

    field: str
    allow: list[str] | None = None
    exclude: list[str] | None = None
    code: str

    @model_validator(mode="after")
    def _one_of(self) -> AttributeRule:
        if (self.allow is None) == (self.exclude is None):
            raise ValueError(
                f"attribute rule on '{self.field}' needs exactly one of allow / exclude"
            )
        return self


class CategoryRules(Strict):
    """Rules of one site category."""

    technology: Literal["pv_rooftop", "pv_ground", "pv_floating", "pv_bipv", "wind"]
    pv_archetype: str | None = None
    pv_archetype_pitched: str | None = None
    min_area_m2: float = Field(0.0, ge=0.0)
    max_area_m2: float | None = Field(None, gt=0.0)
    edge_setback_m: float = Field(0.0, ge=0.0)
    obstruction_frac: float = Field(0.0, ge=0.0, le=1.0)
    coverage_cap_frac: float = Field(1.0, gt=0.0, le=1.0)
    max_slope_deg: float | None = Field(None, gt=0.0, le=90.0)
    aspect_range_deg: tuple[float, float] | None = None
    aspect_min_slope_deg: float = Field(2.0, ge=0.0)
    pitched_max_from_south_deg: float = Field(90.0, ge=0.0, le=180.0)
    min_years_since_closure: float | None = Field(None, ge=0.0)
    min_usable_area_m2: float = Field(0.0, ge=0.0)
    min_width_m: float | None = Field(None, gt=0.0)
    landcover_allow: list[int] | None = None
    landcover_exclude: list[int] | None = None
    landcover_min_allowed_frac: float = Field(0.5, ge=0.0, le=1.0)
    attribute_rules: list[AttributeRule] = Field(default_factory=list)
    exclusions: list[ExclusionRule] = Field(default_factory=list)


class RulesConfig(Strict):
    """All screening rules: one :class:`CategoryRules` per category (the set is open)."""

    reference_year: int
    categories: dict[str, CategoryRules]
