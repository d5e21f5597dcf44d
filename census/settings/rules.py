"""Config models of the screening rules (the ``rules`` section of a run's config).

Rule values live in ``census/resources/rules.yaml`` with unit and source; a user's
TOML overrides them per category, e.g. ``[rules.categories.pond] min_area_m2 = 5000``.
The rules themselves are applied by :mod:`census.sites.screen`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from census.settings.base import Strict

__all__ = [
    "AttributeRule",
    "BasinCoverRules",
    "CategoryRules",
    "ExclusionRule",
    "FacadeRules",
    "LandTypeClass",
    "LandTypesConfig",
    "RulesConfig",
]


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


class BasinCoverRules(Strict):
    """PV on covers over sewage-treatment basins (:mod:`census.sites.sewage`)."""

    kind_field: str = Field(
        "kind", description="Site field telling a basin from a whole plant's outline."
    )
    plant_values: list[str] = Field(
        default_factory=lambda: ["plant"],
        description="Values of kind_field meaning the outline of a whole treatment plant.",
    )
    plant_basin_share_frac: float = Field(
        ge=0.0, le=1.0, description="Share of a plant's outline under basins [frac]."
    )
    type_field: str = Field("basin_type", description="Site field with the basin or tank type.")
    closed_types: list[str] = Field(
        default_factory=list,
        description="Basin types that are closed tanks carrying no PV cover (e.g. digesters).",
    )


class FacadeRules(Strict):
    """BIPV facades derived from footprints and heights (:mod:`census.solar.facade`)."""

    height_field: str = Field("height_m", description="Building height field [m].")
    min_building_height_m: float = Field(0.0, ge=0.0, description="Lowest building used [m].")
    max_from_south_deg: float = Field(
        90.0, ge=0.0, le=180.0, description="Widest facade azimuth from south kept [deg]."
    )
    window_to_wall_frac: dict[str, float] = Field(
        description="Window share of the wall by side (S, E, W, N) [frac]."
    )
    shading_distance_factor: float = Field(
        gt=0.0, description="A taller neighbour within this many facade heights shades it [-]."
    )
    party_wall_m: float = Field(
        ge=0.0, description="A neighbour closer than this to the wall makes it a party wall [m]."
    )
    max_shaded_frac: float = Field(
        ge=0.0, le=1.0, description="A facade shaded over more than this share is dropped [frac]."
    )
    strip_depth_m: float = Field(
        gt=0.0, description="Depth of the map strip drawn in front of a facade [m]."
    )


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
    basin_cover: BasinCoverRules | None = Field(
        None, description="Sewage-basin cover rules (category sewage_cover)."
    )
    facade: FacadeRules | None = Field(None, description="BIPV facade rules (category facade).")
    land_type_rule: bool = Field(
        False,
        description="Apply the forest-type and cultivated-land rule ([rules.land_types]) to "
        "this category.",
    )
    disabled_rules: list[str] = Field(
        default_factory=list,
        description="Rule families (area, attributes, forest_type, exclusions, setbacks, "
        "land_cover, terrain, roof_geometry, basin_cover, facade, coverage) or reason codes "
        "switched off.",
    )


class LandTypeClass(Strict):
    """One land type of the forest-type / cultivated-land rule and what PV arrays may do on it."""

    arrays: Literal["closed", "conditional", "open"] = Field(
        description="closed: no PV arrays; conditional: forest-PV co-use (林光互补) under the "
        "shrub-land conditions; open: this rule does not exclude."
    )
    code: str = Field(description="Stable reason code when arrays are closed here.")
    names: list[str] = Field(
        default_factory=list, description="Values of the forest_type field meaning this type."
    )
    gbt21010: list[str] = Field(
        default_factory=list,
        description="GB/T 21010-2017 land-use codes (prefixes: '01' = every 01xx code).",
    )
    worldcover: list[int] = Field(
        default_factory=list, description="ESA WorldCover classes counted as this type."
    )


class LandTypesConfig(Strict):
    """The forest-type and cultivated-land rule (自然资办发〔2023〕12号) as data."""

    field: str = "forest_type"
    classes: dict[str, LandTypeClass]
    annual_precipitation_mm: float = Field(ge=0.0)
    dry_precipitation_mm: float = Field(ge=0.0)
    shrub_max_cover_frac: float = Field(ge=0.0, le=1.0)
    shrub_cover_field: str = "shrub_cover_frac"
    shrub_cover_unknown: Literal["exclude", "allow"] = "exclude"
    min_clearance_above_shrub_m: float = Field(ge=0.0)
    min_open_frac: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _unique_values(self) -> LandTypesConfig:
        seen: dict[str, str] = {}
        for name, cls in self.classes.items():
            for alias in [a.strip().lower() for a in cls.names + cls.gbt21010]:
                if alias in seen and seen[alias] != name:
                    raise ValueError(
                        f"land-type value {alias!r} is listed under both {seen[alias]!r} and "
                        f"{name!r}"
                    )
                seen[alias] = name
        return self


class RulesConfig(Strict):
    """All screening rules: one :class:`CategoryRules` per category (the set is open)."""

    reference_year: int
    land_types: LandTypesConfig | None = None
    categories: dict[str, CategoryRules]
