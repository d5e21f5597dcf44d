"""Land-use survey (三调 DLTB parcels) -> census site layers and a runnable config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pyproj import Transformer
from shapely.geometry import box
from typer.testing import CliRunner

from census.exceptions import SchemaError
from census.io.landuse import (
    classify_landuse,
    load_landuse_codes,
    normalize_codes,
    read_landuse,
)
from census.prepare import prepare_data

from ..conftest import BOUNDARIES

pytestmark = pytest.mark.skipif(not BOUNDARIES.exists(), reason="district boundaries missing")

# Parcels in Xiaoshan (120.27E, 30.10N; all 10 inside the district), laid out on a
# 200 m grid of 100 m squares
# in EPSG:4549 (CGCS2000 3-degree GK CM 120E, metres): each parcel is 10 000 m2 by hand.
LON, LAT = 120.27, 30.10
PARCELS = [
    # BSM, DLBM (as a survey stores it: some as numbers), DLMC, ZLDWMC
    ("330109001", "1104A", "养殖坑塘", "衙前村"),
    ("330109002", "1104", "坑塘水面", "衙前村"),
    ("330109003", "0602", "采矿用地", "凤凰村"),
    ("330109004", "1106", "内陆滩涂", "凤凰村"),
    ("330109005", 301, "乔木林地", "杨汛村"),  # integer code: 0301
    ("330109006", "0302", "竹林地", "杨汛村"),
    ("330109007", "0305", "灌木林地", "杨汛村"),
    ("330109008", "1101", "河流水面", "衙前村"),  # never a site
    ("330109009", "0101", "水田", "衙前村"),  # cultivated: agri, closed to arrays
    ("330109010", "0701", "城镇住宅用地", "衙前村"),  # not in the code table
    ("330109011", "1202", "设施农用地", "衙前村"),  # facility farm land: agri-PV
]


def _survey(path: Path, rows=PARCELS, *, layer: str = "DLTB") -> Path:
    x0, y0 = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(LON, LAT)
    geoms = [box(x0 + 200 * i, y0, x0 + 200 * i + 100, y0 + 100) for i in range(len(rows))]
    gdf = gpd.GeoDataFrame(
        {
            "BSM": [r[0] for r in rows],
            "DLBM": [str(r[1]) if not isinstance(r[1], int) else r[1] for r in rows],
            "DLMC": [r[2] for r in rows],
            "ZLDWMC": [r[3] for r in rows],
        },
        geometry=geoms,
        crs="EPSG:4549",
    )
    # a survey file mixes types in DLBM only as text; store as text like real extracts
    gdf["DLBM"] = gdf["DLBM"].astype(str)
    gdf.to_file(path, layer=layer, driver="GPKG")
    return path


def test_normalize_codes():
    got = normalize_codes(pd.Series([301, "1104a", " 0602 ", None, 1104.0, "301K", "", "1104A"]))
    assert got.tolist() == ["0301", "1104A", "0602", None, "1104", "0301K", None, "1104A"]


def test_code_table_entries_have_sources_and_known_categories():
    codes = load_landuse_codes()
    for code, entry in codes.codes.items():
        assert entry.source.strip(), code
        assert entry.category in {"pond", "mine", "mudflat", "forest", "agri"}, code
    # GB/T 21010-2017 Table 1: the plan's site classes (issue 17's list, checked by hand)
    expected = {
        "1104": "pond",
        "1104A": "pond",
        "0602": "mine",
        "1105": "mudflat",
        "1106": "mudflat",
        "0301": "forest",
        "0302": "forest",
        "0305": "forest",
        "0307": "forest",
    }
    assert {c: codes.codes[c].category for c in expected} == expected
    assert {codes.codes[c].forest_type for c in ("0301", "0302", "0305", "0307")} == {
        "tree",
        "bamboo",
        "shrub",
        "other",
    }
    assert set(codes.never) == {"1101", "1102", "1103"}  # rivers, lakes, reservoirs
    assert all(codes.codes[c].land_use == "cultivated" for c in ("0101", "0102", "0103"))


def test_read_and_classify(tmp_path: Path):
    parcels = read_landuse(_survey(tmp_path / "s.gpkg"))
    assert parcels.crs.to_epsg() == 4549
    assert_allclose(parcels.area, 10_000.0, rtol=1e-9)  # 100 m x 100 m squares
    res = classify_landuse(parcels, load_landuse_codes())
    assert sorted(res.layers) == ["agri", "forest", "mine", "mudflat", "pond"]
    assert res.layers["pond"]["survey_id"].tolist() == ["330109001", "330109002"]
    forest = res.layers["forest"].set_index("survey_id")
    assert forest["forest_type"].to_dict() == {
        "330109005": "tree",
        "330109006": "bamboo",
        "330109007": "shrub",
    }
    assert forest.loc["330109005", "landuse_code"] == "0301"
    assert res.layers["mine"]["village"].tolist() == ["凤凰村"]
    counts = res.counts_by_code.set_index("landuse_code")
    assert counts.loc["1101", "outcome"] == "never"
    assert counts.loc["0701", "outcome"] == "unmapped"
    assert counts["parcels"].sum() == len(PARCELS)


def test_missing_field_and_duplicate_ids(tmp_path: Path):
    path = _survey(tmp_path / "s.gpkg")
    with pytest.raises(SchemaError, match="--code-field"):
        read_landuse(path, code_field="DLBM_X")
    rows = [PARCELS[0], (PARCELS[0][0], "0602", "采矿用地", "凤凰村")]
    dup = _survey(tmp_path / "d.gpkg", rows)
    with pytest.raises(SchemaError, match="repeats"):
        read_landuse(dup)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("landuse")
    survey = _survey(tmp / "survey.gpkg")
    with pytest.warns(UserWarning):
        return prepare_data(osm=None, landuse=survey, out=tmp / "out")


def test_prepare_writes_layers_and_config(prepared):
    cfg = tomllib.loads(prepared.config.read_text(encoding="utf-8"))
    for cat in ("pond", "mine", "mudflat", "forest", "agri"):
        entry = cfg["layers"][f"landuse_{cat}"]
        assert entry["category"] == cat and entry["id_field"] == "survey_id"
        assert entry.get("enabled", True) is True
    ponds = gpd.read_file(prepared.out / "sites.gpkg", layer="landuse_pond")
    assert ponds["survey_id"].tolist() == ["330109001", "330109002"]
    # the OSM site layers of the survey's categories are not written (no double counting)
    assert not any(
        k in cfg["layers"] and cfg["layers"][k].get("enabled", True)
        for k in ("ponds", "mines", "forest", "mudflats")
    )
    report = pd.read_csv(prepared.out / "landuse_codes_report.csv", dtype={"landuse_code": str})
    assert report["parcels"].sum() == len(PARCELS)


def test_census_run_keeps_survey_ids(prepared):
    from census.config import load_config
    from census.pipeline import run_census

    # no wind atlas was prepared: the survey's mudflat needs the opt-in to the station wind
    loaded = load_config(
        prepared.config, overrides={"wind": {"resource": {"station_extrapolation": True}}}
    )
    result = run_census(loaded, write=False)
    sites = result.sites.set_index("survey_id")
    # the site id is the layer name and the survey id (unique across layers)
    pairs = zip(result.sites["site_id"], result.sites["survey_id"], strict=True)
    assert all(sid.endswith(":" + bsm) for sid, bsm in pairs)
    # every mapped parcel inside Xiaoshan is a site with its survey id and category
    assert sites.loc["330109001", "category"] == "pond"
    assert sites.loc["330109003", "category"] == "mine"
    assert sites.loc["330109004", "category"] == "mudflat"
    assert sites.loc["330109006", "category"] == "forest"
    assert "330109008" not in sites.index  # river: never a site
    assert sites.loc["330109001", "village"] == "衙前村"
    # an aquaculture pond passes the water-use rule; a mine of unknown status fails it
    assert sites.loc["330109001", "water_use"] == "aquaculture"
    assert not sites.loc["330109003", "eligible"]
    assert "status" in sites.loc["330109003", "exclusion_reasons"]
    assert_allclose(sites.loc["330109001", "area_m2"], 10_000.0, rtol=1e-6)
    # agri-PV: cultivated land is closed by 自然资办发〔2023〕12号, facility farm land is open
    assert sites.loc["330109009", "category"] == "agri"
    assert sites.loc["330109009", "exclusion_reasons"] == "cultivated_land"
    assert sites.loc["330109011", "category"] == "agri"
    assert sites.loc["330109011", "eligible"]


def test_cli_landuse(tmp_path: Path):
    from census.cli import app

    survey = _survey(tmp_path / "survey.gpkg")
    res = CliRunner().invoke(
        app, ["data", "prepare", "--landuse", str(survey), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert "landuse_pond: 2 features" in res.output
    bad = CliRunner().invoke(
        app,
        [
            "data",
            "prepare",
            "--landuse",
            str(survey),
            "--code-field",
            "NOPE",
            "--out",
            str(tmp_path / "o2"),
        ],
    )
    assert bad.exit_code != 0 and "--code-field" in bad.output
    assert not (tmp_path / "o2").exists()
