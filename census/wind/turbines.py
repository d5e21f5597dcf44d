"""Wind turbines: NREL's turbine-models, windpowerlib's library, or a user power curve.

Two turbine libraries ship their data inside their packages and are read offline
(nothing is downloaded): NREL's ``turbine-models`` (current low-specific-power
reference machines, the default) and windpowerlib's oedb library in
``windpowerlib/oedb/`` (e.g. the Vestas V126-3.45 MW). A user power curve (CSV, read by
:func:`census.io.powercurve.read_power_curve`) replaces the library curve for
models that are not in it, which includes most Chinese low-wind turbines.

windpowerlib only warns and leaves the curve empty for an unknown type; here
an unknown type is a :class:`~census.exceptions.ConfigError` that lists close
names.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import WindTurbine, get_turbine_types

from census.exceptions import ConfigError, InputError
from census.schema import require_columns
from census.settings.wind import TurbineConfig
from census.units import kw_to_w, w_to_mw

__all__ = ["TurbineSpec", "library_turbine_types", "make_turbine", "turbine_models_types"]

logger = logging.getLogger(__name__)

try:  # pandas >= 3 warns about windpowerlib's dropna(inplace=True); harmless
    from pandas.errors import Pandas4Warning as _PandasFutureWarning
except ImportError:  # pragma: no cover - pandas < 3
    _PandasFutureWarning = FutureWarning  # type: ignore[misc, assignment]


@dataclass(frozen=True)
class TurbineSpec:
    """One turbine model at one hub height.

    Attributes
    ----------
    turbine_type : str
        Library name (e.g. ``"V126/3450"``) or the user's label.
    hub_height_m : float
        Hub height above ground. [m]
    rotor_diameter_m : float
        Rotor diameter. [m]
    nominal_power_w : float
        Rated electrical power. [W]
    power_curve : pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] (strictly increasing) and ``value``
        [W], at standard air density 1.225 kg m⁻³.
    source : str
        Where the curve came from (library and version, or CSV path).
    """

    turbine_type: str
    hub_height_m: float
    rotor_diameter_m: float
    nominal_power_w: float
    power_curve: pd.DataFrame
    source: str

    @property
    def rated_power_mw(self) -> float:
        """Rated (AC) power of one turbine [MW]."""
        return float(w_to_mw(self.nominal_power_w))

    def to_windpowerlib(self) -> WindTurbine:
        """Return an equivalent :class:`windpowerlib.WindTurbine` (no file look-up)."""
        return WindTurbine(
            hub_height=self.hub_height_m,
            nominal_power=self.nominal_power_w,
            path=None,
            power_curve=self.power_curve.copy(),
            rotor_diameter=self.rotor_diameter_m,
            turbine_type=self.turbine_type,
        )


def library_turbine_types() -> pd.DataFrame:
    """List the turbine types of windpowerlib's shipped library (offline).

    Returns
    -------
    pandas.DataFrame
        Columns ``manufacturer``, ``turbine_type``, ``has_power_curve``,
        ``has_cp_curve``; only types with a power or power-coefficient curve.
    """
    return get_turbine_types(turbine_library="local", print_out=False, filter_=True)


def _close_names(name: str, names: list[str]) -> list[str]:
    close = difflib.get_close_matches(name, names, n=6, cutoff=0.5)
    stem = name.split("/")[0].strip().lower()
    if stem:
        close += [n for n in names if n.lower().startswith(stem) and n not in close]
    return close[:10]


def make_turbine(config: TurbineConfig, *, power_curve: pd.DataFrame | None = None) -> TurbineSpec:
    """Build the turbine a run uses from its configuration.

    Parameters
    ----------
    config : TurbineConfig
        ``wind.turbine`` section: ``type``, ``hub_height_m``,
        ``rotor_diameter_m`` (override), ``power_curve_csv``.
    power_curve : pandas.DataFrame, optional
        Power curve already read (columns ``wind_speed`` [m s⁻¹], ``value``
        [W]); takes precedence over ``config.power_curve_csv``.

    Returns
    -------
    TurbineSpec

    Raises
    ------
    ConfigError
        If the type is not in windpowerlib's library (the message lists close
        names), has no power curve there, or the hub height is not above half
        the rotor diameter.
    InputError
        If the user power curve is invalid (see
        :func:`census.io.powercurve.read_power_curve`).
    """
    if power_curve is None and config.power_curve_csv is not None:
        from census.io.powercurve import read_power_curve

        power_curve = read_power_curve(config.power_curve_csv)

    if power_curve is not None:
        curve = _checked_curve(power_curve, origin=str(config.power_curve_csv or "power_curve"))
        if config.rotor_diameter_m is None:
            raise ConfigError(
                "a user power curve needs wind.turbine.rotor_diameter_m [m]; set it in the config."
            )
        spec = TurbineSpec(
            turbine_type=config.type,
            hub_height_m=float(config.hub_height_m),
            rotor_diameter_m=float(config.rotor_diameter_m),
            nominal_power_w=float(curve["value"].max()),
            power_curve=curve,
            source=f"user power curve {config.power_curve_csv or '(DataFrame)'}",
        )
    elif config.library == "turbine-models":
        spec = _turbine_models_turbine(config)
    else:
        spec = _library_turbine(config)
    if spec.hub_height_m <= 0.5 * spec.rotor_diameter_m:
        raise ConfigError(
            f"wind.turbine.hub_height_m ({spec.hub_height_m} m) must exceed half the rotor "
            f"diameter of {spec.turbine_type} ({spec.rotor_diameter_m} m); raise the hub height."
        )
    logger.info(
        "turbine %s: %.2f MW, rotor %.0f m, hub %.0f m (%s)",
        spec.turbine_type,
        spec.rated_power_mw,
        spec.rotor_diameter_m,
        spec.hub_height_m,
        spec.source,
    )
    return spec


def _library_turbine(config: TurbineConfig) -> TurbineSpec:
    types = library_turbine_types()
    names = types["turbine_type"].astype(str).tolist()
    if config.type not in names:
        close = _close_names(config.type, names)
        hint = f"Close names: {close}." if close else f"Known types: {names}."
        raise ConfigError(
            f"wind.turbine.type {config.type!r} is not in windpowerlib "
            f"{windpowerlib.__version__}'s "
            f"turbine library. {hint} For another model, set wind.turbine.power_curve_csv and "
            "rotor_diameter_m."
        )
    row = types.loc[types["turbine_type"] == config.type].iloc[0]
    if not bool(row["has_power_curve"]):
        raise ConfigError(
            f"wind.turbine.type {config.type!r} has no power curve in windpowerlib's library "
            "(only a power-coefficient curve); give the manufacturer's curve with "
            "wind.turbine.power_curve_csv."
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=_PandasFutureWarning, module="windpowerlib")
        try:
            wt = WindTurbine(turbine_type=config.type, hub_height=config.hub_height_m)
        except ValueError as exc:  # windpowerlib's only ValueError here: hub <= rotor/2
            raise ConfigError(
                f"wind.turbine.hub_height_m ({config.hub_height_m} m) must exceed half the rotor "
                f"diameter of {config.type}; raise the hub height ({exc})."
            ) from exc
    if wt.power_curve is None or wt.nominal_power is None or wt.rotor_diameter is None:
        raise ConfigError(
            f"windpowerlib's library lacks the power curve, rated power or rotor diameter of "
            f"{config.type!r}; set wind.turbine.power_curve_csv and rotor_diameter_m."
        )
    curve = _checked_curve(wt.power_curve, origin=f"windpowerlib library {config.type}")
    rotor_m = _rotor_diameter(config, float(wt.rotor_diameter), library="the library")
    return TurbineSpec(
        turbine_type=config.type,
        hub_height_m=float(config.hub_height_m),
        rotor_diameter_m=rotor_m,
        nominal_power_w=float(wt.nominal_power),
        power_curve=curve,
        source=f"windpowerlib {windpowerlib.__version__} oedb library",
    )


def _turbine_models() -> Any:
    try:
        from turbine_models.parser import Turbines
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "wind.turbine.library = 'turbine-models' needs NREL's package: "
            "pip install 'turbine-models>=0.2.2'"
        ) from exc
    return Turbines()


def turbine_models_types(group: str = "onshore") -> list[str]:
    """List the turbines of NREL's turbine-models package in one group (offline).

    Parameters
    ----------
    group : {"onshore", "offshore", "distributed"}, default "onshore"
        Group of the package's library.

    Returns
    -------
    list of str
        Turbine names, sorted.
    """
    return sorted(str(n) for n in _turbine_models().turbines(group).values())


def _turbine_models_turbine(config: TurbineConfig) -> TurbineSpec:
    lib = _turbine_models()
    names = [str(n) for g in lib.groups for n in lib.turbines(g).values()]
    if config.type not in names:
        close = _close_names(config.type, names)
        hint = f"Close names: {close}." if close else f"Known types: {sorted(names)}."
        raise ConfigError(
            f"wind.turbine.type {config.type!r} is not in NREL turbine-models "
            f"{importlib.metadata.version('turbine-models')}'s library. {hint} Set "
            "wind.turbine.library = 'windpowerlib' for windpowerlib's types, or "
            "power_curve_csv and rotor_diameter_m for another model."
        )
    specs = lib.specs(config.type)
    table = specs.get("power_curve")
    if not isinstance(table, pd.DataFrame) or not {"wind_speed_ms", "power_kw"} <= set(table):
        raise ConfigError(
            f"turbine-models has no power curve (wind_speed_ms, power_kw) for {config.type!r}; "
            "give the manufacturer's curve with wind.turbine.power_curve_csv."
        )
    curve = _checked_curve(
        pd.DataFrame(
            {
                "wind_speed": table["wind_speed_ms"].to_numpy(float),
                "value": kw_to_w(table["power_kw"].to_numpy(float)),
            }
        ),
        origin=f"turbine-models {config.type}",
    )
    rotor = specs.get("rotor_diameter")
    rated_kw = specs.get("rated_power")
    if rotor is None or rated_kw is None:
        raise ConfigError(
            f"turbine-models lacks the rotor diameter or rated power of {config.type!r}; "
            "set wind.turbine.power_curve_csv and rotor_diameter_m."
        )
    rotor_m = _rotor_diameter(config, float(rotor), library="turbine-models")
    return TurbineSpec(
        turbine_type=config.type,
        hub_height_m=float(config.hub_height_m),
        rotor_diameter_m=rotor_m,
        nominal_power_w=float(kw_to_w(float(rated_kw))),
        power_curve=curve,
        source=(
            f"NREL turbine-models {importlib.metadata.version('turbine-models')}, "
            f"{specs.get('power_curve_file', config.type)} "
            f"({specs.get('origin') or 'n/a'}, {specs.get('power_curve_type') or 'n/a'} curve)"
        ),
    )


def _rotor_diameter(config: Any, library_m: float, *, library: str) -> float:
    """Return the rotor diameter to lay turbines out with: the override, else the library's [m].

    An override more than 1 % off the library's is warned about: the library's power
    curve stays, only the layout spacing follows the override.
    """
    if config.rotor_diameter_m is None:
        return library_m
    if not np.isclose(config.rotor_diameter_m, library_m, rtol=0.01):
        warnings.warn(
            f"wind.turbine.rotor_diameter_m = {config.rotor_diameter_m} m differs from "
            f"{config.type}'s {library_m} m in {library}; the library power curve is kept, "
            "the override only sets the layout spacing.",
            stacklevel=4,
        )
    return float(config.rotor_diameter_m)


def _checked_curve(curve: pd.DataFrame, *, origin: str) -> pd.DataFrame:
    """Return ``curve`` as float columns; check increasing speed, non-negative power."""
    require_columns(
        curve, ("wind_speed", "value"), what=f"{origin}: a power curve", error=InputError
    )
    out = pd.DataFrame(
        {
            "wind_speed": curve["wind_speed"].to_numpy(float),
            "value": curve["value"].to_numpy(float),
        }
    )
    ws, p = out["wind_speed"].to_numpy(), out["value"].to_numpy()
    if len(out) < 2 or not np.all(np.isfinite(ws)) or not np.all(np.isfinite(p)):
        raise InputError(f"{origin}: a power curve needs >= 2 rows of finite numbers.")
    bad = np.flatnonzero(np.diff(ws) <= 0)
    if bad.size:
        raise InputError(
            f"{origin}: wind speed must be strictly increasing; row {bad[0] + 2} "
            f"({ws[bad[0] + 1]} m/s) follows {ws[bad[0]]} m/s."
        )
    neg = np.flatnonzero(p < 0)
    if neg.size:
        raise InputError(f"{origin}: power must be >= 0 W; row {neg[0] + 1} has {p[neg[0]]} W.")
    return out
