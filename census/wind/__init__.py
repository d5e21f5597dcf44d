"""Wind physics of the census: profile, turbines, layout, wake losses, annual energy.

The ``wind`` config section is :class:`census.settings.wind.WindConfig` (defaults in
``resources/wind.yaml``).

Modules
-------
profile
    Wind speed at hub height (log law or Hellman) and air density (windpowerlib).
turbines
    Turbine from windpowerlib's shipped library or a user power curve.
layout
    Turbines on a wind-aligned grid inside usable site areas; prevailing direction.
yield_
    Annual energy per site: time series through windpowerlib, wakes, losses;
    Weibull integral for atlas A/k.
"""

from __future__ import annotations

# Submodules are imported where used (e.g. ``census.wind.yield_``): importing the
# package stays light.
