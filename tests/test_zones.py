"""Zone split by area (census.zones), with hand-worked geometry in EPSG:4549."""

from __future__ import annotations

import geopandas as gpd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box

from census.exceptions import CRSError, SchemaError
from census.zones import OUTSIDE, dominant_zone, split_by_zone

X0, Y0 = 520_000.0, 3_340_000.0  # EPSG:4549 metres, inside Hangzhou


def _zones():
    # two villages side by side: A = [0, 1000] x [0, 1000], B = [1000, 2000] x [0, 1000]
    return gpd.GeoDataFrame(
        {"village": ["A", "B"]},
        geometry=[
            box(X0, Y0, X0 + 1000, Y0 + 1000),
            box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
        ],
        crs="EPSG:4549",
    )


def _sites():
    return gpd.GeoDataFrame(
        {"site_id": ["in_a", "straddle", "half_out", "out"]},
        geometry=[
            box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),  # inside A
            box(X0 + 900, Y0 + 100, X0 + 1300, Y0 + 200),  # 100 m in A, 300 m in B
            box(X0 + 1900, Y0 + 100, X0 + 2100, Y0 + 200),  # half in B, half outside
            box(X0 + 5000, Y0, X0 + 5100, Y0 + 100),  # in no zone
        ],
        crs="EPSG:4549",
    )


def test_shares_by_hand():
    pieces = split_by_zone(_sites(), _zones(), zone_field="village")
    got = {(r.site_index, r.zone): r.share_frac for r in pieces.itertuples()}
    # by hand: widths 100/400 and 300/400 of the straddling site, 100/200 of the half-out one
    expected = {
        (0, "A"): 1.0,
        (1, "A"): 0.25,
        (1, "B"): 0.75,
        (2, "B"): 0.5,
        (2, OUTSIDE): 0.5,
        (3, OUTSIDE): 1.0,
    }
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert_allclose(got[key], value, rtol=1e-12)
    # every site's shares sum to 1, so zone totals add up to the district totals
    assert_allclose(pieces.groupby("site_index")["share_frac"].sum(), 1.0, rtol=1e-12)


def test_dominant_zone_counts_each_site_once():
    dom = dominant_zone(split_by_zone(_sites(), _zones(), zone_field="village"))
    assert dom.to_dict()[1] == "B"  # 75 % in B
    assert dom.to_dict()[3] == OUTSIDE
    assert len(dom) == 4


def test_zone_crs_is_aligned():
    zones = _zones().to_crs("EPSG:4326")
    pieces = split_by_zone(_sites(), zones, zone_field="village")
    s = pieces.set_index(["site_index", "zone"])["share_frac"]
    # a 1 km box reprojected to lon/lat and back is not exactly a box: 1e-4 is the
    # distortion of straight edges through EPSG:4326 at this size
    assert_allclose(s.loc[(1, "B")], 0.75, rtol=1e-4)


def test_errors():
    with pytest.raises(SchemaError, match="--zone-field"):
        split_by_zone(_sites(), _zones(), zone_field="name")
    overlapping = _zones()
    overlapping.loc[1, "geometry"] = box(X0 + 500, Y0, X0 + 2000, Y0 + 1000)
    with pytest.raises(SchemaError, match="overlap"):
        split_by_zone(_sites(), overlapping, zone_field="village")
    with pytest.raises(CRSError):
        split_by_zone(_sites().to_crs("EPSG:4326"), _zones(), zone_field="village")


def _site_table():
    sites = _sites()
    sites["district"] = "Xiaoshan"
    sites["adcode"] = 330109
    sites["category"] = ["rooftop", "pond", "pond", "mudflat"]
    sites["technology"] = ["pv_rooftop", "pv_floating", "pv_floating", "wind"]
    sites["eligible"] = [True, True, True, False]
    sites["usable_area_m2"] = [8000.0, 30000.0, 16000.0, 0.0]
    sites["capacity_mw_dc"] = [1.0, 4.0, 2.0, 9.0]  # the wind row is ineligible: left out
    sites["capacity_mw_ac"] = [0.8, 3.2, 1.6, 9.0]
    sites["energy_mwh_yr"] = [1000.0, 4400.0, 2200.0, 20000.0]
    sites["population"] = 0
    return sites


def _summarize():
    import functools

    from census.config import load_config
    from census.rollup import summarize_by_district

    targets = load_config().config.targets
    kwargs = {
        name: getattr(targets, name)
        for name in (
            "storage_technologies",
            "storage_min_frac",
            "storage_duration_h",
            "grid_emission_factor_tco2_mwh",
        )
        if hasattr(targets, name)
    }
    return functools.partial(summarize_by_district, **kwargs)


def test_zone_rollup_adds_up_and_splits_by_hand():
    from census.zones import summarize_by_zone

    zones = _zones()
    zones["people"] = [1000, 4000]
    sites = _site_table()
    out = summarize_by_zone(
        sites, zones, zone_field="village", summarize=_summarize(), population_field="people"
    ).set_index("zone")
    # by hand: A gets the rooftop (1 MW) and 1/4 of the straddling pond (1 MW DC);
    # B gets 3/4 of it (3 MW) and half of the half-out pond (1 MW); outside the other half
    assert_allclose(out.loc["A", "capacity_mw_dc"], 2.0, rtol=1e-12)
    assert_allclose(out.loc["B", "capacity_mw_dc"], 4.0, rtol=1e-12)
    assert_allclose(out.loc[OUTSIDE, "capacity_mw_dc"], 1.0, rtol=1e-12)
    assert_allclose(out.loc["B", "energy_mwh_yr"], 3300.0 + 1100.0, rtol=1e-12)
    # zone totals equal the district totals of the same sites
    district = _summarize()(sites, _district())
    for col in (
        "capacity_mw_dc",
        "capacity_mw_ac",
        "energy_mwh_yr",
        "storage_mw",
        "co2_avoided_t_yr",
    ):
        if col in district.columns:
            assert_allclose(out[col].sum(), district[col].sum(), rtol=1e-12)
    # every site counted once, in the zone with its largest share
    assert out["sites"].sum() == 4
    assert out.loc["B", "sites"] == 2  # 75 % of the straddling pond, half of the half-out one
    # per person: A 2 MW PV DC over 1000 people = 2 kW per person
    assert_allclose(out.loc["A", "pv_kw_dc_per_person"], 2.0, rtol=1e-12)
    assert_allclose(out.loc["B", "pv_kw_ac_per_person"], 3.2 / 4.0, rtol=1e-12)


def _district():
    import pandas as pd

    return pd.DataFrame({"adcode": [330109], "name_zh": ["萧山区"], "name_en": ["Xiaoshan"]})


def test_cli_run_by_demo_parks_adds_up(tmp_path):
    """`census run --zones` on the demo's park layer: zone rows add up to the districts."""
    import pandas as pd
    from typer.testing import CliRunner

    from census.cli import app
    from census.config import DEMO_DIR

    out = tmp_path / "run"
    res = CliRunner().invoke(
        app,
        [
            "run",
            "--district",
            "Tonglu",
            "--out",
            str(out),
            "--zones",
            f"{DEMO_DIR / 'demo_zones.gpkg'}:parks",
            "--zone-field",
            "name",
            "--lang",
            "en",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    zones = pd.read_csv(out / "summary_by_zone.csv", encoding="utf-8-sig")
    districts = pd.read_csv(out / "summary_by_district.csv", encoding="utf-8-sig")
    for col in ("capacity_mw_dc", "capacity_mw_ac", "energy_mwh_yr"):
        # pieces of one site add up to the site: equal up to float summation order
        assert_allclose(zones[col].sum(), districts[col].sum(), rtol=1e-9)
    assert zones["sites"].sum() == districts["sites"].sum()
    assert OUTSIDE in set(zones["zone"])  # most of Tonglu is outside its logistics parks
    assert len(zones) >= 2  # at least one park in Tonglu besides the outside row
    per_person = pd.read_csv(out / "per_person_by_district.csv", encoding="utf-8-sig")
    assert per_person.loc[0, "population"] == 453_106  # Tonglu, 2020 census bulletin
    # the report has the zone section, its total row equal to the district totals, and the
    # city map the zones layer with each park's totals
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="zones"' in report and "Tonglu logistics park (demo)" in report
    section = report.split('id="zones"')[1].split("<h2")[0]
    import re

    total_row = section.split('class="total"')[1].split("</tr>")[0]
    cells = [float(c.replace(",", "")) for c in re.findall(r">([-0-9.,]+)</td>", total_row)]
    # the total row's capacity DC (cells are rounded for display) is the districts' total
    assert_allclose(cells[2], districts["capacity_mw_dc"].sum(), atol=0.05)
    city_map = (out / "map.html").read_text(encoding="utf-8")
    assert "census.addZones(" in city_map
    zone_rows = next(p for p in _payloads(city_map) if p.get("meta", {}).get("label") == "Zone")
    by_key = {r[0]: r for r in zone_rows["rows"]}
    park = zones.set_index("zone").loc["Tonglu logistics park (demo)"]
    assert by_key["Tonglu logistics park (demo)"][1] == park["sites"]
    assert_allclose(by_key["Tonglu logistics park (demo)"][3], park["capacity_mw_dc"], atol=0.05)
    # Tonglu's own map draws the zones that meet Tonglu, with the same totals
    district_map = (out / "maps" / "330122_Tonglu.html").read_text(encoding="utf-8")
    rows = next(p for p in _payloads(district_map) if p.get("meta", {}).get("label") == "Zone")
    assert {r[0]: r for r in rows["rows"]}["Tonglu logistics park (demo)"] == by_key[
        "Tonglu logistics park (demo)"
    ]
    assert {r[0] for r in rows["rows"]} <= set(by_key)
    # the Word report, the workbook and the reportlab PDF carry the same section
    _check_other_formats(out, zones)


def _check_other_formats(out, zones) -> None:
    import json
    from types import SimpleNamespace

    import pandas as pd

    docx = pytest.importorskip("docx", reason="pip install python-docx")
    document = docx.Document(str(out / "report.docx"))
    text = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Zones" in text and "Potential by zone" in " ".join(text)
    assert "Tonglu logistics park (demo)" in cells
    from openpyxl import load_workbook

    assert "summary_by_zone" in load_workbook(out / "census.xlsx", read_only=True).sheetnames
    from census.report import report_context
    from census.report_pdf import build_pdf_reportlab

    def r(name: str) -> pd.DataFrame:
        return pd.read_csv(out / name, encoding="utf-8-sig", keep_default_na=False, na_values=[""])

    res = SimpleNamespace(
        by_district=r("summary_by_district_category.csv"),
        district_totals=r("summary_by_district.csv"),
        city=r("summary_city.csv"),
        targets=r("targets.csv"),
        by_zone=zones,
        provenance=json.loads((out / "provenance.json").read_text(encoding="utf-8")),
    )
    ctx = report_context(res, lang="en", charts=False)
    assert ctx["zones"]["rows"][-1][0] == "Total"
    # in Chinese the outside row and the total row are labelled in Chinese too
    zh = report_context(res, lang="zh", charts=False)["zones"]
    assert [r[0] for r in zh["rows"]][-2:] == ["（片区以外）", "合计"]
    assert zh["headers"][0] == "片区"
    pdf = build_pdf_reportlab(ctx)
    pypdf = pytest.importorskip("pypdf")
    import io

    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert "Potential by zone" in "".join(page.extract_text() or "" for page in pages)


def _payloads(html: str) -> list[dict]:
    import json
    import re

    return [
        json.loads(m)
        for m in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html)
    ]


def test_zone_layer_on_the_map_escapes_names(tmp_path):
    """A zone layer drawn by build_map: popups carry the totals; names stay text."""
    import pandas as pd

    from census.maps import build_map, save_map

    hostile = '<img src=x onerror=alert(1)>"村'
    zones = _zones().assign(village=["A", hostile])
    sites = _sites().assign(category="rooftop", eligible=True, adcode=330102)
    districts = gpd.GeoDataFrame(
        {"adcode": [330102], "name_zh": ["上城区"], "name_en": ["Shangcheng"]},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 6000, Y0 + 1100)],
        crs="EPSG:4549",
    )
    totals = pd.DataFrame(
        {
            "zone": ["A", hostile, OUTSIDE],
            "sites": [2, 2, 1],
            "eligible_sites": [2, 1, 1],
            "capacity_mw_dc": [1.2, 2.5, 0.5],
            "capacity_mw_ac": [1.0, 2.0, 0.4],
            "energy_mwh_yr": [1500.0, 3000.0, 600.0],
        }
    )
    m = build_map(
        sites, districts, title="t", zones=zones, zone_totals=totals, zone_field="village"
    )
    text = save_map(m, tmp_path / "z.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "Zones (2)" in text
    payload = next(p for p in _payloads(text) if p.get("meta", {}).get("label") == "Zone")
    # rows: [key, sites, eligible, MW DC, MW AC, GWh/yr], the outside row is not a polygon
    assert payload["rows"] == [["A", 2, 2, 1.2, 1.0, 1.5], [hostile, 2, 1, 2.5, 2.0, 3.0]]
    assert [f[0] for f in payload["meta"]["fields"]] == [
        "Sites",
        "Eligible sites",
        "Capacity DC",
        "Capacity AC",
        "Energy",
    ]


def test_cli_zones_without_field_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from census.cli import app

    res = CliRunner().invoke(
        app, ["run", "-d", "Tonglu", "--out", str(tmp_path / "r"), "--zones", "x.gpkg"]
    )
    assert res.exit_code == 2
    assert "--zone-field" in res.output
    assert not (tmp_path / "r").exists()


def test_district_maps_draw_the_zones_that_meet_them(two_districts):
    from census.maps import zones_by_district

    x0, y0 = two_districts.total_bounds[:2]
    zones = gpd.GeoDataFrame(
        {"name": ["in Alpha", "across", "nowhere", "touching"]},
        geometry=[
            box(x0 + 100, y0 + 100, x0 + 200, y0 + 200),
            box(x0 + 9_900, y0 + 100, x0 + 10_100, y0 + 200),  # over the border
            box(x0 + 50_000, y0, x0 + 50_100, y0 + 100),
            box(x0 + 20_000, y0, x0 + 20_100, y0 + 100),  # touches Beta's edge only
        ],
        crs="EPSG:4549",
    )
    got = {code: list(z["name"]) for code, z in zones_by_district(zones, two_districts).items()}
    assert got == {1: ["in Alpha", "across"], 2: ["across"]}
    assert zones_by_district(None, two_districts) == {}
    # zones in another CRS are compared in the districts' CRS
    lonlat = zones.iloc[:3].to_crs("EPSG:4326")
    got = {code: list(z["name"]) for code, z in zones_by_district(lonlat, two_districts).items()}
    assert got == {1: ["in Alpha", "across"], 2: ["across"]}
