"""The streaming merge of a batch (census.batch_merge) against one-table references.

Each piece of the merge is checked against the function a single run uses on the
whole table: the k-way merged supply curve against :func:`census.supply.supply_curve`
on all sites, the summed tallies against :func:`census.sites.screen.tally_reasons`,
the city index map built from per-district cells against
:func:`census.maps.write_maps` on all sites. No demo run: hand-made tables.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

import census.batch_merge as bm
from census.batch_merge import (
    district_cells,
    index_map_from_cells,
    merge_supply_curves,
    merge_tallies,
)
from census.io.outputs import write_csv
from census.maps import save_map, write_maps
from census.settings.costs import CostsConfig
from census.sites.screen import REASON_SEP, tally_reasons
from census.supply import supply_curve

X0, Y0 = 500_000.0, 3_340_000.0

COSTS = CostsConfig.model_validate(
    {
        "discount_rate_frac": 0.06,
        "technologies": {
            t: {"capex_cny_kw": c, "opex_cny_kw_yr": o, "lifetime_yr": 25, "degradation_frac_yr": d}
            for t, c, o, d in (
                ("pv_rooftop", 3500.0, 40.0, 0.005),
                ("pv_ground", 3000.0, 35.0, 0.005),
                ("wind", 6000.0, 150.0, 0.0),
            )
        },
    }
)
TARGETS = {
    "records": {
        # reached inside the PV curve on the DC and on the AC basis, and a wind target
        "pv_dc": {
            "label": "PV DC",
            "technologies": ["pv"],
            "year": 2025,
            "capacity_mw": 40.0,
            "capacity_basis": "dc",
            "source": "test",
        },
        "pv_ac": {
            "label": "PV AC",
            "technologies": ["pv"],
            "year": 2030,
            "capacity_mw": 55.0,
            "capacity_basis": "ac",
            "source": "test",
        },
        "wind_1": {
            "label": "Wind",
            "technologies": ["wind"],
            "year": 2025,
            "capacity_mw": 30.0,
            "capacity_basis": "ac",
            "source": "test",
        },
    }
}


def _sites(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Sites of three districts, with ties in energy, NaN yields and ineligible rows."""
    rng = np.random.default_rng(seed)
    tech = rng.choice(["pv_rooftop", "pv_ground", "wind"], n, p=[0.6, 0.25, 0.15])
    cap = np.round(rng.uniform(0.05, 2.0, n), 2)
    # specific yields on a 10 kWh/kWp grid: many exact ties, broken by site id
    spec = np.round(rng.uniform(900, 1200, n), -1)
    spec[rng.random(n) < 0.05] = np.nan
    energy = cap * np.nan_to_num(spec, nan=1000.0)
    cf = np.where(tech == "wind", np.round(rng.uniform(0.18, 0.32, n), 2), np.nan)
    energy = np.where(tech == "wind", cap * cf * 8760, energy)
    return pd.DataFrame(
        {
            "site_id": [f"s{i:04d}" for i in rng.permutation(n)],
            "district": np.repeat(["A", "B", "C"], n // 3),
            "adcode": np.repeat([1, 2, 3], n // 3),
            "category": np.where(tech == "wind", "mudflat", "rooftop"),
            "technology": tech,
            "eligible": rng.random(n) < 0.85,
            "capacity_mw_dc": cap,
            "capacity_mw_ac": np.where(tech == "wind", cap, cap / 1.2),
            "energy_mwh_yr": energy,
            "specific_yield_kwh_kwp": np.where(tech == "wind", np.nan, spec),
            "capacity_factor": cf,
        }
    )


def _district_curves(tmp_path, sites, costs):
    paths = []
    for code, part in sites.groupby("adcode", sort=True):
        path = tmp_path / f"curve_{code}.csv"
        write_csv(path, supply_curve(part, costs, targets=TARGETS))
        paths.append(path)
    return paths


@pytest.mark.parametrize("costs", [COSTS, None], ids=["lcoe", "resource"])
def test_merged_supply_curve_equals_the_curve_of_all_sites(tmp_path, costs):
    sites = _sites()
    paths = _district_curves(tmp_path, sites, costs)
    out = tmp_path / "merged.csv"
    # chunks of 7 rows: the k-way merge crosses many chunk boundaries
    kept = merge_supply_curves(
        paths, out, targets=TARGETS, has_costs=costs is not None, chunk_rows=7
    )
    ref = supply_curve(sites, costs, targets=TARGETS)
    got = pd.read_csv(out, encoding="utf-8-sig")
    assert got["site_id"].tolist() == ref["site_id"].tolist()  # the same order, ties too
    assert got["rank"].tolist() == ref["rank"].tolist()
    # every target is marked where one curve over all sites marks it
    assert got["reaches_target"].fillna("").tolist() == ref["reaches_target"].tolist()
    assert set(ref["reaches_target"]) >= {"pv_dc", "pv_ac", "wind_1"}
    for col in (
        "capacity_mw_dc",
        "capacity_mw_ac",
        "energy_mwh_yr",
        "lcoe_cny_kwh",
        "cumulative_capacity_mw",
        "cumulative_capacity_mw_ac",
        "cumulative_energy_gwh_yr",
    ):
        # the same additions in the same order: equal to the last bit
        assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=0, atol=0)
    assert list(got.columns) == list(ref.columns)
    assert len(kept) == len(ref)  # short: kept whole for the report


def test_long_merged_curve_reaches_the_report_thinned(tmp_path, monkeypatch):
    monkeypatch.setattr(bm, "KEEP_CURVE_ROWS", 50)
    monkeypatch.setattr(bm, "_CURVE_HEAD_ROWS", 5)
    monkeypatch.setattr(bm, "_CURVE_SPACED_ROWS", 20)
    sites = _sites()
    paths = _district_curves(tmp_path, sites, COSTS)
    kept = merge_supply_curves(paths, tmp_path / "m.csv", targets=TARGETS, has_costs=True)
    full = pd.read_csv(tmp_path / "m.csv", encoding="utf-8-sig")
    assert len(full) == len(supply_curve(sites, COSTS))  # the CSV keeps every site
    assert len(kept) < len(full)
    for curve, part in full.groupby("curve"):
        k = kept[kept["curve"] == curve]
        assert k["rank"].iloc[0] == 1 and k["rank"].iloc[-1] == len(part)  # first and last
        assert set(range(1, 6)) <= set(k["rank"])  # the cheapest five for the report table
    targets = full[full["reaches_target"].fillna("") != ""]
    assert set(targets["site_id"]) <= set(kept["site_id"])
    # thinned rows are rows of the full curve, unchanged
    merged = kept.merge(full, on=["curve", "rank"], suffixes=("", "_full"))
    assert_allclose(merged["cumulative_capacity_mw"], merged["cumulative_capacity_mw_full"])


def test_merged_tallies_equal_the_tally_of_all_sites():
    sep = REASON_SEP
    sites = pd.DataFrame(
        {
            "category": ["rooftop"] * 5 + ["pond"] * 3 + ["mine"] * 2,
            "exclusion_reasons": [
                "",
                f"too_small{sep}shaded",
                "too_small",
                "",
                "heritage",
                "",
                "",
                "ecological_redline",
                "",
                "",
            ],
            "area_m2": [100.0, 20.0, 30.0, 400.0, 500.0, 1e4, 2e4, 3e4, 5e4, 6e4],
            "eligible": [True, False, False, True, False, True, True, False, True, True],
            "run": [0, 0, 1, 1, 1, 0, 1, 1, 0, 1],
        }
    )
    ref = tally_reasons(sites)
    got = merge_tallies([tally_reasons(p) for _, p in sites.groupby("run")])
    cols = ["category", "reason"]
    assert got[cols].values.tolist() == ref[cols].values.tolist()
    for col in ("sites", "area_m2", "sites_total", "eligible_sites"):
        assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-12)
    # by hand: rooftop too_small fails twice (20 + 30 m2); 5 rooftops, 2 eligible
    row = got[(got.category == "rooftop") & (got.reason == "too_small")].iloc[0]
    assert (row.sites, row.area_m2, row.sites_total, row.eligible_sites) == (2, 50.0, 5, 2)


def _layers():
    districts = gpd.GeoDataFrame(
        {"adcode": [1, 2], "name_zh": ["甲区", "乙区"], "name_en": ["Alpha", "Beta"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )
    # 50 rooftops in Alpha on a 300 m grid; 6 ponds in Beta, two of them in the cell
    # that also holds Alpha's easternmost rooftops (cells cross the district border)
    xs = (
        [X0 + 7_000 + 300 * (i % 10) for i in range(50)]
        + [X0 + 9_990 + 3, X0 + 9_995]
        + [X0 + 12_000 + 500 * i for i in range(4)]
    )
    ys = [Y0 + 100 + 300 * (i // 10) for i in range(50)] + [Y0 + 200] * 2 + [Y0 + 5_000] * 4
    rng = np.random.default_rng(3)
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(56)],
            "category": ["rooftop"] * 50 + ["pond"] * 6,
            "adcode": [1] * 50 + [2] * 6,
            "eligible": rng.random(56) < 0.7,
            "capacity_mw_dc": np.round(rng.uniform(0.01, 1.0, 56), 3),
            "energy_mwh_yr": np.round(rng.uniform(10, 1000, 56), 1),
        },
        geometry=[shapely.box(x, y, x + 4, y + 4) for x, y in zip(xs, ys, strict=True)],
        crs="EPSG:4549",
    )
    return sites, districts


def _cells_of(path):
    text = path.read_text(encoding="utf-8")
    blobs = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text, re.S)
    out = {}
    for p in map(json.loads, blobs):
        meta = p.get("meta", {})
        if "cells" not in meta:
            continue
        # bounds, counts, capacity, energy and the linked file; not the row offsets
        out[meta["category"]] = [
            c[:4] + c[6:10] + [meta["links"][c[10]]] for c in meta["cells"] or []
        ]
    return out


def test_index_map_from_district_cells_equals_the_index_map_of_all_sites(tmp_path):
    sites, districts = _layers()
    write_maps(tmp_path / "one", sites, districts, max_sites_per_map=20)
    cells = pd.concat(
        [
            district_cells(
                sites[sites.adcode == row.adcode],
                adcode=row.adcode,
                name_en=row.name_en,
                max_sites_per_map=20,
            )
            for row in districts.itertuples()
        ]
    )
    m = index_map_from_cells(cells, districts, crs=sites.crs, title="Hangzhou")
    save_map(m, tmp_path / "merged.html")
    ref = _cells_of(tmp_path / "one" / "map.html")
    got = _cells_of(tmp_path / "merged.html")
    assert got == ref
    # by hand: 56 sites in all; the border cell holds rooftops of Alpha and two ponds
    assert sum(c[4] for cs in got.values() for c in cs) == 56
    assert len(cells) < len(sites)  # a cell table, not a site table
    # the layer control counts sites, not cells
    text = (tmp_path / "merged.html").read_text(encoding="utf-8")
    assert "Rooftop (50)" in text and "Pond (6)" in text


def test_merged_zone_tables_equal_the_zone_table_of_all_sites():
    import functools

    from census.rollup import summarize_by_district
    from census.zones import OUTSIDE, summarize_by_zone

    summarize = functools.partial(
        summarize_by_district,
        storage_technologies=["pv_ground"],
        storage_min_frac=0.1,
        storage_duration_h=2.0,
        grid_emission_factor_tco2_mwh=0.5,
    )
    # zones W (x < 1000) and E (1000 <= x < 2000); a site straddling x = 1000 is split by
    # area; the site beyond x = 2000 is outside every zone
    zones = gpd.GeoDataFrame(
        {"zone": ["W", "E"], "people": [1000, 0]},
        geometry=[
            shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
            shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
        ],
        crs="EPSG:4549",
    )
    boxes = [(100, 200), (900, 1100), (1500, 1600), (1950, 2050), (300, 400)]
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"z{i}" for i in range(5)],
            "district": ["A", "A", "B", "B", "B"],
            "adcode": [1, 1, 2, 2, 2],
            "category": ["rooftop", "rooftop", "pond", "pond", "rooftop"],
            "technology": ["pv_rooftop", "pv_rooftop", "pv_ground", "pv_ground", "pv_rooftop"],
            "eligible": [True, True, True, False, True],
            "usable_area_m2": [5000.0, 8000.0, 9000.0, 0.0, 1000.0],
            "capacity_mw_dc": [1.0, 2.0, 3.0, 0.0, 0.5],
            "capacity_mw_ac": [0.8, 1.6, 2.5, 0.0, 0.4],
            "energy_mwh_yr": [1000.0, 2000.0, 3300.0, 0.0, 500.0],
        },
        geometry=[shapely.box(X0 + a, Y0 + 100, X0 + b, Y0 + 200) for a, b in boxes],
        crs="EPSG:4549",
    )
    kw = {"zone_field": "zone", "summarize": summarize, "population_field": "people"}
    ref = summarize_by_zone(sites, zones, **kw)
    got = bm._merge_zones([summarize_by_zone(p, zones, **kw) for _, p in sites.groupby("adcode")])
    assert got["zone"].tolist() == ref["zone"].tolist() == ["E", "W", OUTSIDE]
    assert list(got.columns) == list(ref.columns)
    for col in ref.columns.drop("zone"):
        assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-12, err_msg=col)
    # by hand: W holds z0, z4 and half of z1: 1 + 0.5 + 1 = 2.5 MW DC of PV for 1000 people
    w = got.set_index("zone").loc["W"]
    assert_allclose(w["pv_kw_dc_per_person"], 2.5 * 1000 / 1000, rtol=1e-12)
