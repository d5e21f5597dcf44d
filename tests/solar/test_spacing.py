"""Tests of census.solar.spacing: the GB 50797-2012 winter-solstice row spacing on slopes.

Hand-worked reference (Hangzhou, latitude 30.23 N, module tilt 22 deg, rows facing south):

* declination on 21 December (day 355, Spencer 1971): -23.4199 deg;
* 15:00 true solar time, hour angle 45 deg:
  sin(alpha) = sin 30.23 sin(-23.42) + cos 30.23 cos(-23.42) cos 45 = 0.36050, alpha = 21.131 deg;
  sun azimuth from south: sin(gamma) = cos(-23.42) sin 45 / cos 21.131, gamma = 44.077 deg
  (09:00 is the mirror image, so both ends of the day govern equally on level ground);
* shadow reach per unit of row height, across the rows: tan(theta_s) = cos(gamma) / tan(alpha)
  = 0.71840 / 0.38644 = 1.85878 (theta_s = 61.72 deg, the projected solar zenith).

A row of slant length L casts its top-edge shadow L sin(b) tan(theta_s) behind its top edge; on a
slope s rising behind the row (south-facing), the next row's foot is p tan(s) higher, so the
shade-free horizontal pitch is p = L (cos b + sin b tan(theta_s)) / (1 + tan(s) tan(theta_s)),
and on a north-facing slope tan(s) changes sign.
"""

from __future__ import annotations

import numpy as np
import pvlib
import pytest
from numpy.testing import assert_allclose

from census.solar.spacing import row_layout, winter_solstice_sun

LAT = 30.23
TILT = 22.0


def test_level_ground_hand_worked():
    # pitch / L = cos 22 + sin 22 x 1.85878 = 0.92718 + 0.37461 x 1.85878 = 1.62349
    # GCR = 1 / 1.62349 = 0.61596
    out = row_layout(LAT, tilt_deg=TILT)
    # hand arithmetic carried to 5 digits: rtol 1e-4
    assert_allclose(out["gcr_frac"], 0.61596, rtol=1e-4)
    assert_allclose(out["module_area_per_map_area_frac"], 0.61596, rtol=1e-4)
    assert_allclose(out["surface_tilt_deg"], 22.0, rtol=1e-12)
    assert_allclose(out["surface_azimuth_deg"], 180.0, rtol=1e-12)


def test_ten_degree_south_slope_hand_worked():
    # south-facing slope rises behind each row: tan 10 = 0.17633
    # p / L = 1.62349 / (1 + 0.17633 x 1.85878) = 1.62349 / 1.32776 = 1.22273; GCR = 0.81784
    # (the governing instant is still 09:00 / 15:00; at noon, tan(theta_s) = 1.35884 and
    #  GCR = (1 + 0.17633 x 1.35884) / (0.92718 + 0.37461 x 1.35884) = 0.86310, larger)
    out = row_layout(LAT, tilt_deg=TILT, slope_deg=10.0, aspect_deg=180.0)
    assert_allclose(out["gcr_frac"], 0.81784, rtol=1e-4)
    assert_allclose(out["axis_tilt_deg"], 0.0, atol=1e-9)  # slope across the rows only
    assert_allclose(out["cross_axis_slope_deg"], 10.0, rtol=1e-9)


def test_ten_degree_north_slope_hand_worked():
    # north-facing slope falls behind each row: tan(-10) = -0.17633
    # p / L = 1.62349 / (1 - 0.17633 x 1.85878) = 1.62349 / 0.67224 = 2.41503; GCR = 0.41407
    out = row_layout(LAT, tilt_deg=TILT, slope_deg=10.0, aspect_deg=0.0)
    assert_allclose(out["gcr_frac"], 0.41407, rtol=1e-4)


def test_shade_free_pitch_against_pvlib_shaded_fraction():
    # Independent reference: pvlib.shading.shaded_fraction1d (Anderson & Jensen 2024) on a
    # 1-minute grid from 09:00 to 15:00 true solar time. At the returned pitch no row is shaded;
    # at 1 % less pitch some instant is.
    cases = [(0.0, 180.0), (10.0, 180.0), (10.0, 0.0), (10.0, 90.0), (15.0, 240.0), (20.0, 135.0)]
    slope, aspect = np.array(cases).T
    out = row_layout(LAT, tilt_deg=TILT, slope_deg=slope, aspect_deg=aspect, n_times=25)
    zen, azi = winter_solstice_sun([LAT], n_times=361)
    for i in range(len(cases)):
        pitch = 1.0 / out["gcr_frac"].iloc[i]  # collector width 1
        kw = dict(
            collector_width=1.0,
            axis_tilt=out["axis_tilt_deg"].iloc[i],
            cross_axis_slope=out["cross_axis_slope_deg"].iloc[i],
        )
        fs = pvlib.shading.shaded_fraction1d(zen[0], azi[0], 90.0, TILT, pitch=pitch, **kw)
        # 25 checked instants vs a 1-min grid: a shadow edge of at most 1e-4 of the row width
        assert fs.max() < 1e-4, cases[i]
        fs_tight = pvlib.shading.shaded_fraction1d(
            zen[0], azi[0], 90.0, TILT, pitch=0.99 * pitch, **kw
        )
        assert fs_tight.max() > 5e-3, cases[i]


def test_east_and_west_slopes_lose_and_mirror():
    # rows that follow a 10 deg east (west) slope tilt their axis by 10 deg; the morning
    # (afternoon) sun then shades more than on level ground
    out = row_layout(LAT, tilt_deg=TILT, slope_deg=[10.0, 10.0], aspect_deg=[90.0, 270.0])
    assert_allclose(out["gcr_frac"].iloc[0], out["gcr_frac"].iloc[1], rtol=1e-9)
    assert out["gcr_frac"].iloc[0] < 0.61596 * 0.9
    # module plane turns toward the downhill side, mirror images about south
    az = out["surface_azimuth_deg"].to_numpy()
    assert az[0] < 180.0 < az[1]
    assert_allclose(az[0] + az[1], 360.0, rtol=1e-9)
    # a tilted axis carries 1 / cos(axis tilt) of module area per unit of map length
    assert_allclose(
        out["module_area_per_map_area_frac"],
        out["gcr_frac"] / np.cos(np.radians(10.0)),
        rtol=1e-9,
    )
    # surface orientation: independent pvlib call (rotation 22 deg about an axis tilted 10 deg)
    ref = pvlib.tracking.calc_surface_orientation(TILT, 10.0, 90.0)
    assert_allclose(out["surface_tilt_deg"].iloc[0], float(ref["surface_tilt"]), rtol=1e-9)


def test_cap_and_hopeless_slopes():
    out = row_layout(
        LAT,
        tilt_deg=TILT,
        slope_deg=[25.0, 60.0, np.nan],
        aspect_deg=[180.0, 0.0, 0.0],
        max_gcr_frac=0.85,
    )
    # steep south slope: rule allows more than the cap
    assert out["gcr_rule_frac"].iloc[0] > 0.85
    assert out["gcr_frac"].iloc[0] == pytest.approx(0.85)
    # 60 deg north slope falls away faster than the sun's rays: no pitch avoids shade
    assert out["gcr_frac"].iloc[1] == 0.0
    # NaN slope is level ground
    assert_allclose(out["gcr_frac"].iloc[2], 0.61596, rtol=1e-4)


def test_solstice_sun_hand_worked():
    # 15:00 true solar time: elevation 21.131 deg, azimuth 180 + 44.077 deg (see module doc)
    zen, azi = winter_solstice_sun(LAT, n_times=25)
    assert_allclose(90.0 - zen[0, -1], 21.131, rtol=1e-4)
    assert_allclose(azi[0, -1], 224.077, rtol=1e-5)
    assert_allclose(azi[0, 0], 135.923, rtol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="latitude_deg"):
        row_layout(-10.0, tilt_deg=TILT)
    with pytest.raises(ValueError, match="tilt_deg"):
        row_layout(LAT, tilt_deg=90.0)


def test_cross_axis_slope_equals_pvlib_scalar_function():
    # reference: pvlib.tracking.calc_cross_axis_tilt, one site at a time
    from census.solar.spacing import cross_axis_slope_deg

    slope, aspect = np.meshgrid([0.0, 5.0, 12.5, 25.0, 40.0], np.arange(0.0, 360.0, 30.0))
    slope, aspect = slope.ravel(), aspect.ravel()
    axis_tilt = pvlib.tracking.calc_axis_tilt(aspect, slope, 90.0)
    ref = [
        float(pvlib.tracking.calc_cross_axis_tilt(a, s, 90.0, t))
        for a, s, t in zip(aspect, slope, axis_tilt, strict=True)
    ]
    assert_allclose(cross_axis_slope_deg(aspect, slope, 90.0, axis_tilt), ref, atol=1e-9)
