"""Capacity per person by district, and per-person PV goals (Lin'an's 1 kW per person)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from census.exceptions import ConfigError
from census.resources import read_text
from census.schema import require_columns
from census.units import kw_to_mw, mw_to_kw

__all__ = ["DistrictPopulation", "Population", "load_population", "per_person_table"]

logger = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistrictPopulation(_Model):
    """Resident population of one district."""

    name_zh: str
    population: int = Field(gt=0)
    note: str | None = None


class PerPersonTarget(_Model):
    """A goal of installed capacity per resident of one district."""

    name: str
    adcode: int
    kw_per_person: float = Field(gt=0)
    technologies: list[str]
    source: str


class Population(_Model):
    """Population table: source, reference date, districts by adcode, per-person goals."""

    source: str
    reference_date: str
    unit: str
    city_total: int | None = None
    districts: dict[int, DistrictPopulation]
    per_person_targets: list[PerPersonTarget] = []


def load_population(path: str | Path | None = None) -> Population:
    """Read a population table (default: Hangzhou, 2020 census, ``resources/population.yaml``).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Your own table of the same shape (another city, a later year).

    Returns
    -------
    Population

    Raises
    ------
    ConfigError
        If the file does not have the expected shape.
    """
    where = str(path) if path else "census/resources/population.yaml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else read_text("population.yaml")
        return Population.model_validate(yaml.safe_load(text))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(
            f"population table {where} could not be read: {exc}. It needs source, "
            "reference_date, unit and districts: {adcode: {name_zh, population}}."
        ) from exc


def per_person_table(by_district: pd.DataFrame, population: Population) -> pd.DataFrame:
    """PV capacity per resident by district, and each per-person goal against it.

    Parameters
    ----------
    by_district : pandas.DataFrame
        District x category x technology roll-up with ``adcode``, ``name_zh``, ``name_en``,
        ``technology``, ``capacity_mw_dc`` and ``capacity_mw_ac`` [MW].
    population : Population
        Resident population by adcode.

    Returns
    -------
    pandas.DataFrame
        One row per district of ``by_district``: ``adcode``, ``name_zh``, ``name_en``,
        ``population`` [persons], ``pv_capacity_mw_dc``, ``pv_capacity_mw_ac`` [MW],
        ``pv_kw_dc_per_person``, ``pv_kw_ac_per_person`` [kW person⁻¹] (NaN without a
        population), and for each goal of that district ``target``, ``target_kw_per_person``,
        ``target_mw`` (population x goal) [MW] and ``potential_to_target_ratio`` (DC) [-].
    """
    require_columns(
        by_district,
        ["adcode", "name_zh", "name_en", "technology", "capacity_mw_dc", "capacity_mw_ac"],
        what="per_person_table",
    )
    pv = by_district[by_district["technology"].astype(str).str.startswith("pv")]
    cap = pv.groupby("adcode")[["capacity_mw_dc", "capacity_mw_ac"]].sum()
    names = by_district.drop_duplicates("adcode")[["adcode", "name_zh", "name_en"]]
    out = names.reset_index(drop=True).copy()
    out["adcode"] = out["adcode"].astype("int64")
    pop = {a: d.population for a, d in population.districts.items()}
    out["population"] = out["adcode"].map(pop).astype("Int64")
    missing = out.loc[out["population"].isna(), "name_en"].tolist()
    if missing:
        logger.warning("no population for district(s) %s: kW per person left empty", missing)
    out["pv_capacity_mw_dc"] = out["adcode"].map(cap["capacity_mw_dc"]).fillna(0.0)
    out["pv_capacity_mw_ac"] = out["adcode"].map(cap["capacity_mw_ac"]).fillna(0.0)
    persons = out["population"].astype("float64")
    out["pv_kw_dc_per_person"] = mw_to_kw(out["pv_capacity_mw_dc"]) / persons
    out["pv_kw_ac_per_person"] = mw_to_kw(out["pv_capacity_mw_ac"]) / persons
    out["target"] = ""
    out["target_kw_per_person"] = float("nan")
    out["target_mw"] = float("nan")
    for goal in population.per_person_targets:
        row = out["adcode"] == goal.adcode
        if not row.any():
            continue
        out.loc[row, "target"] = goal.name
        out.loc[row, "target_kw_per_person"] = goal.kw_per_person
        out.loc[row, "target_mw"] = kw_to_mw(goal.kw_per_person * persons[row])
    out["potential_to_target_ratio"] = out["pv_capacity_mw_dc"] / out["target_mw"]
    return out
