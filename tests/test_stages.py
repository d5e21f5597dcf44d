"""Each stage of the chain run alone on a hand-made site table and context."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

import census.io.powercurve
from census.config import load_config
from census.io.boundaries import read_districts, select_districts
from census.pipeline import run_census
from census.sites.screen import required_exclusions
from census.stages import RunContext, record_provenance, roll_up, screen, size_capacity
from census.stages.capacity import NO_TURBINE_ROOM

from .conftest import BOUNDARIES, X0, Y0

POWER_CURVE = BOUNDARIES.parents[3] / "tests" / "data" / "wind" / "lowwind_3mw_example.csv"


def _ctx(**overrides) -> RunContext:
    return RunContext(loaded=load_config(overrides=overrides or None))


def _table(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4549")
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def test_screen_stage_alone():
    # the rules this test works out by hand, set here so it does not follow rules.yaml
    pond = {"edge_setback_m": 5.0, "coverage_cap_frac": 0.5, "min_area_m2": 10_000.0}
    ctx = _ctx(rules={"categories": {"pond": pond}})
    ctx.exclusions = {
        n: gpd.GeoSeries([], crs="EPSG:4549")
        for n in required_exclusions(ctx.config.rules, ["pond"])
    }
    sites = _table(
        [
            {"site_id": "a", "category": "pond", "water_use": "aquaculture"},
            {"site_id": "small", "category": "pond", "water_use": "aquaculture"},
            {"site_id": "drink", "category": "pond", "water_use": "drinking_water"},
        ],
        [
            shapely.box(X0, Y0, X0 + 200, Y0 + 200),
            shapely.box(X0 + 1000, Y0, X0 + 1050, Y0 + 50),
            shapely.box(X0 + 2000, Y0, X0 + 2200, Y0 + 200),
        ],
    )
    out, ctx = screen(sites, ctx)
    assert out["eligible"].tolist() == [True, False, False]
    # 5 m edge setback, coverage cap 0.5 -> (200 - 2 * 5)^2 * 0.5; 50 m x 50 m < 1 ha
    assert_allclose(out.loc[0, "usable_area_m2"], 190.0**2 * 0.5, rtol=1e-9)
    assert_allclose(ctx.usable_geometry.iloc[0].area, 190.0**2, rtol=1e-9)
    assert "min_area" in out.loc[1, "exclusion_reasons"].split(";")
    assert "water_use" in out.loc[2, "exclusion_reasons"].split(";")
    pond = ctx.tally[ctx.tally["category"] == "pond"]
    assert (pond["eligible_sites"] == 1).all() and (pond["sites_total"] == 3).all()


def _screened_wind_sites() -> gpd.GeoDataFrame:
    big = shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)
    strip = shapely.box(X0, Y0 + 5000, X0 + 3000, Y0 + 5010)  # 3 ha, 10 m deep along the wind
    sites = _table(
        [
            {"site_id": "big", "category": "mudflat", "adcode": 1, "district": "Alpha"},
            {"site_id": "strip", "category": "mudflat", "adcode": 1, "district": "Alpha"},
        ],
        [big, strip],
    )
    sites["eligible"] = True
    sites["exclusion_reasons"] = ""
    sites["usable_area_m2"] = sites["area_m2"]
    sites["technology"] = "wind"
    sites["pv_archetype"] = None
    return sites


def test_capacity_stage_decides_no_turbine_room_and_tally_agrees():
    # the V126/3450 (windpowerlib) the hand count below is worked out for; wind from the north
    v126 = {"library": "windpowerlib", "type": "V126/3450", "hub_height_m": 117.0}
    ctx = _ctx(wind={"layout": {"prevailing_direction_deg": 0.0}, "turbine": v126})
    sites = _screened_wind_sites()
    ctx.usable_geometry = sites.geometry
    out, ctx = size_capacity(sites, ctx)
    # By hand, V126/3450 (D = 126 m), 8 D along the wind (1008 m, north-south) and 5 D across
    # (630 m): grid offsets (k + 0.5) / 4 of a spacing give 2 rows along the 2000 m square
    # (126 m, 1134 m) and at best 4 across (78.75, 708.75, 1338.75, 1968.75 m): 8 turbines.
    # The strip is 10 m deep along the wind: the first row would sit 126 m in, so none fits.
    assert ctx.turbine.rotor_diameter_m == 126.0
    counts = ctx.turbines.groupby("site_id").size()
    assert counts.to_dict() == {"big": 8}
    strip = out.set_index("site_id").loc["strip"]
    assert not strip["eligible"] and strip["usable_area_m2"] == 0.0
    assert strip["exclusion_reasons"] == NO_TURBINE_ROOM
    tally = ctx.tally.set_index(["category", "reason"])
    assert tally.loc[("mudflat", NO_TURBINE_ROOM), "sites"] == 1
    assert (tally["eligible_sites"] == out["eligible"].sum()).all()  # agrees with eligible


def test_roll_up_stage_computes_supply_curve_and_gap(tmp_path):
    from census.io.existing import read_existing_capacity

    csv = tmp_path / "existing.csv"
    csv.write_text("adcode,technology,capacity_mw_dc\n1,pv_rooftop,40\n", encoding="utf-8")
    # targets on the DC basis, as the hand figures below and the existing table are
    dc = {"capacity_basis": "dc"}
    ctx = _ctx(targets={"records": {"pv_2025": dc, "pv_2030": {**dc, "capacity_mw": 650.0}}})
    ctx.districts = pd.DataFrame({"adcode": [1], "name_zh": ["甲区"], "name_en": ["Alpha"]})
    ctx.existing_capacity = read_existing_capacity(csv)
    sites = pd.DataFrame(
        {
            "site_id": ["r1", "g1", "x1"],
            "category": ["rooftop", "mine", "rooftop"],
            "district": ["Alpha"] * 3,
            "adcode": [1, 1, 1],
            "eligible": [True, True, False],
            "usable_area_m2": [5e5, 2e6, 0.0],
            "technology": ["pv_rooftop", "pv_ground", "pv_rooftop"],
            "capacity_mw_dc": [100.0, 250.0, 7.0],
            "capacity_mw_ac": [80.0, 200.0, 5.6],
            "energy_mwh_yr": [100_000.0, 280_000.0, np.nan],
            "specific_yield_kwh_kwp": [1000.0, 1120.0, 1000.0],
            "capacity_factor": [0.114, 0.128, 0.114],
        }
    )
    out, ctx = roll_up(sites, ctx)
    assert out["energy_mwh_yr"].iloc[2] == 0.0  # a site without energy counts 0
    pv = ctx.supply_curve[ctx.supply_curve["curve"] == "pv"]
    assert set(pv["site_id"]) == {"r1", "g1"}  # eligible sites only
    assert_allclose(pv["cumulative_capacity_mw"].iloc[-1], 350.0, rtol=1e-12)
    gap = ctx.existing_gap.set_index("target").loc["pv_2030"]
    # 650 MW target - 40 MW existing = 610 MW remaining; 610 - 350 MW potential = 260 MW short
    assert_allclose(
        gap[["existing_mw", "remaining_mw", "potential_mw", "shortfall_mw"]].astype(float),
        [40.0, 610.0, 350.0, 260.0],
        rtol=1e-12,
    )
    assert ctx.existing_by_district["pv_existing_mw"].tolist() == [40.0]


def _qiantang_mudflats() -> gpd.GeoDataFrame:
    districts = read_districts(BOUNDARIES, crs="GCJ-02")
    qt = select_districts(districts, ["Qiantang"]).iloc[0]
    p = qt.geometry.representative_point()
    sites = _table(
        [{"site_id": f"m{i}", "category": "mudflat", "layer": "hand-made"} for i in range(2)],
        [shapely.box(p.x + dx, p.y, p.x + dx + 700, p.y + 700) for dx in (0.0, 1000.0)],
    )
    sites["adcode"] = int(qt["adcode"])
    sites["district"] = qt["name_en"]
    return sites


def test_power_curve_is_read_once_per_run(mocker):
    loaded = load_config(
        overrides={
            "wind": {"turbine": {"power_curve_csv": str(POWER_CURVE), "rotor_diameter_m": 140.0}}
        }
    )
    spy = mocker.spy(census.io.powercurve, "read_power_curve")
    result = run_census(loaded, ["Qiantang"], sites=_qiantang_mudflats(), write=False)
    assert spy.call_count == 1
    assert (result.sites["technology"] == "wind").all()


def test_write_false_returns_everything_the_report_shows():
    result = run_census(None, ["Qiantang"], sites=_qiantang_mudflats(), write=False)
    for name in ("supply_curve", "existing_gap", "existing_by_district", "tally", "pv_profile_mw"):
        assert isinstance(getattr(result, name), pd.DataFrame), name
    assert result.run_dir is None and result.outputs == {}
    assert result.provenance["warnings"] is result.warnings
    tally = result.tally.groupby("category")["eligible_sites"].first()
    assert tally.to_dict() == result.sites.groupby("category")["eligible"].sum().to_dict()


def test_record_provenance_lists_existing_capacity_input(tmp_path):
    csv = tmp_path / "existing.csv"
    csv.write_text("adcode,technology,capacity_mw_dc\n1,wind,4\n", encoding="utf-8")
    ctx = _ctx(targets={"existing_capacity": str(csv)})
    ctx.districts = pd.DataFrame({"name_en": ["Alpha"]})
    sites = pd.DataFrame({"eligible": [True]})
    _, ctx = record_provenance(sites, ctx)
    assert any(row["path"] == str(csv.resolve()) for row in ctx.provenance["inputs"])
    assert ctx.provenance["counts"] == {"sites": 1, "eligible_sites": 1, "turbines": 0}


@pytest.mark.parametrize("stage", [screen, size_capacity, roll_up])
def test_stages_keep_the_site_index(stage):
    # a stage returns the table it was given with columns added, rows and index unchanged
    sites = _screened_wind_sites().set_index(pd.Index([10, 20]))
    ctx = _ctx(wind={"layout": {"prevailing_direction_deg": 0.0}})
    ctx.usable_geometry = sites.geometry
    ctx.districts = pd.DataFrame({"adcode": [1], "name_zh": ["甲区"], "name_en": ["Alpha"]})
    ctx.exclusions = {
        n: gpd.GeoSeries([], crs="EPSG:4549")
        for n in required_exclusions(ctx.config.rules, ["mudflat"])
    }
    if stage is roll_up:
        sites, ctx = size_capacity(sites, ctx)
        sites["energy_mwh_yr"] = 1.0
        sites["capacity_factor"] = 0.2
        sites["specific_yield_kwh_kwp"] = np.nan
    out, _ = stage(sites, ctx)
    assert out.index.tolist() == [10, 20]


def test_a_run_releases_inputs_no_later_stage_reads(monkeypatch):
    """The orchestrator drops the DEM, exclusions and usable geometries once used (they are
    ~0.4 GiB at 1e6 sites); every stage after them gets None, and the numbers hold."""
    import census.pipeline as pipeline
    from census.stages import STAGES

    names = [n for n, _ in STAGES]
    seen: dict[str, dict[str, bool]] = {}

    def spy(name, stage):
        def wrapped(sites, ctx):
            seen[name] = {
                a: getattr(ctx, a) is not None
                for attrs in pipeline.RELEASED_AFTER.values()
                for a in attrs
            }
            return stage(sites, ctx)

        return wrapped

    monkeypatch.setattr(pipeline, "STAGES", tuple((n, spy(n, s)) for n, s in STAGES))
    res = pipeline.run_census(None, ["Binjiang"], write=False)
    # the demo has a DEM, exclusion layers and setbacks: present until released
    assert seen["screen sites"]["dem"] and seen["screen sites"]["exclusions"]
    assert seen["capacity"]["usable_geometry"] and not seen["capacity"]["dem"]
    for later in names[names.index("yield") :]:
        if later in seen:
            assert not any(seen[later].values()), later
    assert set(pipeline.RELEASED_AFTER) <= set(names)
    # the same numbers as a run that keeps everything
    monkeypatch.setattr(pipeline, "RELEASED_AFTER", {})
    kept = pipeline.run_census(None, ["Binjiang"], write=False)
    pd.testing.assert_frame_equal(res.district_totals, kept.district_totals, check_exact=True)
    assert res.district_totals["capacity_mw_dc"].sum() > 0
