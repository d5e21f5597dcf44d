"""power_curve_w: windpowerlib's density-corrected power curve, all hours at once."""

from __future__ import annotations

import numpy as np
import pytest
from windpowerlib import power_output

from census.wind.yield_ import power_curve_w

# an IEC-style 3 MW curve: cut-in 3 m/s, rated 12 m/s, cut-out 25 m/s [m/s], [W]
WS = np.array([3.0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 25])
PW = np.array([0.0, 80, 240, 480, 800, 1250, 1800, 2400, 2850, 3000, 3000, 3000, 3000]) * 1e3


def test_equals_windpowerlib_every_hour():
    rng = np.random.default_rng(7)
    n = 8760
    v = rng.weibull(2.0, n) * 8.0
    # the edges of np.interp: exact curve points, below cut-in, above cut-out, NaN
    v[:13] = WS
    v[13:16] = [0.0, 2.99, 30.0]
    v[16] = np.nan
    rho = rng.uniform(1.10, 1.30, n)
    rho[:13] = 1.225  # standard density: the curve points themselves
    got = power_curve_w(v, WS, PW, rho, True)
    ref = power_output.power_curve(v, WS, PW, density=rho, density_correction=True)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-6, equal_nan=True)
    # by hand at 1.225 kg/m3 the curve is unchanged: its points come back, 0 outside
    np.testing.assert_allclose(got[:13], PW, rtol=0, atol=1e-6)
    assert got[13] == 0.0 and got[14] == 0.0 and got[15] == 0.0 and np.isnan(got[16])


def test_thin_air_needs_more_wind():
    # 1.1 kg/m3 below 7.5 m/s: speeds scale by (1.225/1.1)**(1/3) = 1.03654 (by hand), so
    # 6 m/s gives the standard curve at 6 / 1.03654 = 5.7884 m/s: 240 + 0.7884 x 240 kW
    got = power_curve_w(np.array([6.0]), WS, PW, np.array([1.1]), True)
    assert got[0] == pytest.approx((240 + (6 / (1.225 / 1.1) ** (1 / 3) - 5) * 240) * 1e3, rel=1e-9)


def test_scalar_density_and_no_correction():
    v = np.array([5.5, 12.0, 26.0])
    np.testing.assert_allclose(
        power_curve_w(v, WS, PW, 1.2, True),
        power_output.power_curve(v, WS, PW, density=np.full(3, 1.2), density_correction=True),
        rtol=1e-12,
    )
    np.testing.assert_allclose(power_curve_w(v, WS, PW, None, False), [360e3, 3000e3, 0.0])
