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
