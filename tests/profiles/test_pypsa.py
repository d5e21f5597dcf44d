"""PyPSA generator tables from a profiles Dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from census.io.profiles import write_pypsa_csv_folder
from census.profiles.pypsa import generator_tables

from .test_report import _year_dataset


def test_generator_tables_reproduce_generation(tmp_path):
    ds = _year_dataset()
    # add a district without capacity: no generator for it, but its bus exists
    ds = ds.reindex(district=[330114, 330127], fill_value=0.0)
    ds = ds.assign_coords(name_zh=("district", ["钱塘区", "淳安县"]))
    cap = ds["capacity_mw_ac"]
    ds["capacity_factor"] = (ds["generation_mw"] / cap).where(cap > 0)
    buses, gens, p_max_pu = generator_tables(ds)
    assert list(buses.index) == ["330114", "330127"]
    assert list(gens.index) == ["330114_pv_ground", "330114_wind"]
    assert_allclose(gens["p_nom"], [1.0, 2.0])
    assert (gens["bus"] == "330114").all()
    # p_nom x p_max_pu gives back the hourly generation
    for name, tech in (("330114_pv_ground", "pv_ground"), ("330114_wind", "wind")):
        expected = ds["generation_mw"].sel(district=330114, technology=tech).to_numpy()
        assert_allclose(gens.loc[name, "p_nom"] * p_max_pu[name].to_numpy(), expected)
    # snapshots: naive local time, interval start (10:00 local is the first PV hour)
    assert p_max_pu.index.tz is None
    assert p_max_pu.loc[pd.Timestamp("2021-01-01 10:00"), "330114_pv_ground"] == 1.0
    folder = write_pypsa_csv_folder(ds, tmp_path / "pypsa")
    back = pd.read_csv(folder / "generators.csv", index_col=0)
    assert_allclose(back["p_nom"], [1.0, 2.0])
    series = pd.read_csv(folder / "generators-p_max_pu.csv", index_col=0)
    assert series.shape == (8760, 2) and np.isfinite(series.to_numpy()).all()
