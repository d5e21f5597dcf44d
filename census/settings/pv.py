"""Configuration of the PV models (the ``pv`` section of a run's config).

No field has a default here: every default value, with its unit and source,
lives in ``census/resources/pv.yaml`` and reaches the model through
:func:`census.resources.load_assumptions`::

    values, ledger = load_assumptions("pv")
    config = PVConfig.model_validate(values)

Fractions (``*_frac``) are 0-1; pvlib's percent arguments are produced only by
:meth:`PVLosses.to_pvlib`, at the pvlib boundary.
"""

from __future__ import annotations

from typing import Any, Literal

import pvlib
from pydantic import Field, field_validator, model_validator

from census.settings.base import Strict
from census.units import frac_to_percent

__all__ = [
    "TEMPERATURE_PARAMETER_NAMES",
    "PVArchetype",
    "PVConfig",
    "PVInverter",
    "PVLosses",
    "PVTechnology",
    "default_pv_config",
]

TemperatureModel = Literal["sapm", "faiman", "pvsyst"]
Mounting = Literal["rows", "flush", "vertical"]
RowSpacing = Literal["fixed", "winter_solstice"]

TEMPERATURE_PARAMETER_NAMES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "sapm": (frozenset({"a", "b", "deltaT"}), frozenset()),
    "faiman": (frozenset({"u0", "u1"}), frozenset()),
    "pvsyst": (frozenset({"u_c", "u_v"}), frozenset({"alpha_absorption"})),
}
"""Required and optional parameters of each pvlib cell-temperature model."""


class PVTechnology(Strict, frozen=True):
    """A module technology.

    Attributes
    ----------
    label : str
        Human-readable name.
    efficiency_frac : float
        Module efficiency at STC (DC power over 1000 W m⁻² × module area). [frac]
    gamma_pdc_per_k : float
        Temperature coefficient of DC power (pvlib ``gamma_pdc``). [1/K]
    bifaciality_frac : float
        Rear-to-front efficiency ratio; 0 for monofacial modules. [frac]
    """

    label: str
    efficiency_frac: float = Field(gt=0.0, le=1.0)
    gamma_pdc_per_k: float = Field(ge=-0.02, le=0.0)
    bifaciality_frac: float = Field(ge=0.0, le=1.0)


class PVArchetype(Strict, frozen=True):
    """A system archetype: mounting, default orientation, thermal model.

    Attributes
    ----------
    label : str
        Human-readable name.
    technology : str
        Default module technology, a key of :attr:`PVConfig.technologies`.
    mounting : {"rows", "flush", "vertical"}
        ``rows``: tilted rows, ``coverage_frac`` is the ground coverage ratio;
        ``flush`` / ``vertical``: modules on the roof or facade plane,
        ``coverage_frac`` is the packing fraction of that plane.
    coverage_frac : float
        Module area per usable area on level ground. For ``row_spacing =
        "winter_solstice"`` it is the level-ground value at the reference
        latitude, used where the bifacial rear-side model needs one GCR. [frac]
    row_spacing : {"fixed", "winter_solstice"}
        ``fixed``: every site uses ``coverage_frac``; ``winter_solstice``: each
        site's GCR follows its slope, aspect and latitude by the GB 50797-2012
        rule (:func:`census.solar.spacing.row_layout`), rows following the
        terrain, capped by ``max_gcr_frac``. Only for ``mounting == "rows"``.
    max_gcr_frac : float or None
        Upper limit of the GCR under ``winter_solstice`` spacing. [frac]
    max_cover_frac : float or None
        Largest share of the usable area that the modules' horizontal
        projection may cover (a fishery-PV limit on shaded water, for
        example); applied once, to the module area. None: no limit. [frac]
    tilt_deg, azimuth_deg : float
        Default orientation when a site gives none; azimuth clockwise from
        North (South = 180). [deg]
    albedo_frac : float
        Ground albedo seen by the modules. [frac]
    temperature_model : {"sapm", "faiman", "pvsyst"}
        pvlib cell-temperature model.
    temperature_params : dict of str to float
        Its parameters, by pvlib's argument names.
    dc_ac_ratio : float
        DC nameplate over inverter AC rating. [-]
    row_height_m, collector_width_m : float or None
        Height of the row centre above ground and slant width of a row [m], for
        the rear-side irradiance of bifacial modules in rows (pvlib's infinite
        sheds); None where rear light is not modelled.
    """

    label: str
    technology: str
    mounting: Mounting
    coverage_frac: float = Field(gt=0.0, le=1.0)
    row_spacing: RowSpacing
    max_gcr_frac: float | None = Field(gt=0.0, le=1.0)
    max_cover_frac: float | None = Field(gt=0.0, le=1.0)
    tilt_deg: float = Field(ge=0.0, le=90.0)
    azimuth_deg: float = Field(ge=0.0, le=360.0)
    albedo_frac: float = Field(ge=0.0, le=1.0)
    temperature_model: TemperatureModel
    temperature_params: dict[str, float]
    dc_ac_ratio: float = Field(gt=0.0, le=3.0)
    row_height_m: float | None = Field(ge=0.0)
    collector_width_m: float | None = Field(gt=0.0)

    @model_validator(mode="after")
    def _check_row_spacing(self) -> PVArchetype:
        if self.row_spacing == "winter_solstice":
            if self.mounting != "rows":
                raise ValueError(
                    f"row_spacing 'winter_solstice' needs mounting 'rows'; got {self.mounting!r}"
                )
            if self.max_gcr_frac is None:
                raise ValueError("row_spacing 'winter_solstice' needs max_gcr_frac (0-1)")
        return self

    @model_validator(mode="after")
    def _check_temperature_params(self) -> PVArchetype:
        required, optional = TEMPERATURE_PARAMETER_NAMES[self.temperature_model]
        given = set(self.temperature_params)
        if not required <= given or not given <= required | optional:
            raise ValueError(
                f"temperature_model {self.temperature_model!r} needs parameters "
                f"{sorted(required)} (optional {sorted(optional)}); got {sorted(given)}"
            )
        return self


class PVLosses(Strict, frozen=True):
    """DC system losses in the PVWatts v5 categories, as fractions.

    Attributes
    ----------
    soiling_frac, shading_frac, snow_frac, mismatch_frac, wiring_frac,
    connections_frac, lid_frac, nameplate_rating_frac, age_frac,
    availability_frac : float
        Loss in each category. [frac]
    """

    soiling_frac: float = Field(ge=0.0, lt=1.0)
    shading_frac: float = Field(ge=0.0, lt=1.0)
    snow_frac: float = Field(ge=0.0, lt=1.0)
    mismatch_frac: float = Field(ge=0.0, lt=1.0)
    wiring_frac: float = Field(ge=0.0, lt=1.0)
    connections_frac: float = Field(ge=0.0, lt=1.0)
    lid_frac: float = Field(ge=0.0, lt=1.0)
    nameplate_rating_frac: float = Field(ge=0.0, lt=1.0)
    age_frac: float = Field(ge=0.0, lt=1.0)
    availability_frac: float = Field(ge=0.0, lt=1.0)

    def to_pvlib(self) -> dict[str, float]:
        """Return the keyword arguments of :func:`pvlib.pvsystem.pvwatts_losses` [%]."""
        return {
            name.removesuffix("_frac"): frac_to_percent(value)
            for name, value in self.model_dump().items()
        }

    def total_frac(self) -> float:
        """Return the combined loss, multiplied out as in PVWatts v5 (Dobos 2014) [frac]."""
        total_percent = float(pvlib.pvsystem.pvwatts_losses(**self.to_pvlib()))
        # percent -> fraction; units.py has frac_to_percent but no inverse (reported to the lead)
        return total_percent / 100.0


class PVInverter(Strict, frozen=True):
    """PVWatts inverter efficiencies (pvlib.inverter.pvwatts).

    Attributes
    ----------
    eta_inv_nom_frac : float
        Nominal efficiency. [frac]
    eta_inv_ref_frac : float
        Reference efficiency of the CEC curve fit. [frac]
    """

    eta_inv_nom_frac: float = Field(gt=0.0, le=1.0)
    eta_inv_ref_frac: float = Field(gt=0.0, le=1.0)


class PVConfig(Strict, frozen=True):
    """All PV assumptions of a run.

    Build it from the packaged table with :func:`default_pv_config`, or with
    ``PVConfig.model_validate(values)`` from a merged config dict.

    Attributes
    ----------
    technologies : dict of str to PVTechnology
        Module technologies by name.
    archetypes : dict of str to PVArchetype
        System archetypes by name (``pv_archetype`` column of the site table).
    losses : PVLosses
        PVWatts DC loss categories.
    inverter : PVInverter
        PVWatts inverter efficiencies.
    transposition_model : {"perez", "haydavies", "isotropic"}
        Sky-diffuse transposition (pvlib.irradiance.get_total_irradiance).
    diffuse_iam_model : {"marion", "none"}
        ``marion``: sky-diffuse and ground-reflected irradiance take the IAM of
        ``iam_model`` integrated over their solid angles
        (:func:`pvlib.iam.marion_diffuse`); ``none``: diffuse light has no
        reflection loss.
    iam_model : {"physical", "ashrae", "martin_ruiz", "none"}
        Incidence-angle modifier on the beam (pvlib.iam), pvlib defaults.
    bin_width_tilt_deg, bin_width_azimuth_deg : float
        Spacing of the orientation nodes the physics is computed on. [deg]
    bin_interpolation : {"bilinear", "nearest"}
        How a site's orientation maps to the nodes: bilinear weights on the
        four surrounding nodes, or the nearest node only.
    """

    technologies: dict[str, PVTechnology]
    archetypes: dict[str, PVArchetype]
    losses: PVLosses
    inverter: PVInverter
    transposition_model: Literal["perez", "haydavies", "isotropic"]
    iam_model: Literal["physical", "ashrae", "martin_ruiz", "none"]
    diffuse_iam_model: Literal["marion", "none"]
    bin_width_tilt_deg: float = Field(gt=0.0, le=90.0)
    bin_width_azimuth_deg: float = Field(gt=0.0, le=180.0)
    bin_interpolation: Literal["bilinear", "nearest"]

    @field_validator("technologies", "archetypes")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("needs at least one entry")
        return value

    @model_validator(mode="after")
    def _archetype_technologies_exist(self) -> PVConfig:
        for name, archetype in self.archetypes.items():
            if archetype.technology not in self.technologies:
                raise ValueError(
                    f"archetype {name!r} uses technology {archetype.technology!r}, which is not "
                    f"in technologies {sorted(self.technologies)}; add it under "
                    "[pv.technologies] or pick one of those."
                )
        return self


def default_pv_config() -> PVConfig:
    """Return the PV configuration of ``census/resources/pv.yaml``."""
    from census.resources import load_assumptions

    values, _ledger = load_assumptions("pv")
    return PVConfig.model_validate(values)
