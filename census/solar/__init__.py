"""PV physics: weather to irradiance, system archetypes, capacity and yield (pvlib).

Modules
-------
settings
    :class:`~census.solar.settings.PVConfig`, the ``pv`` config section.
resource
    Sun position at mid-interval, extraterrestrial irradiance, airmass.
systems
    Archetypes: coverage, capacity density, cell temperature.
capacity
    :func:`~census.solar.capacity.add_pv_capacity`.
yield_
    :func:`~census.solar.yield_.add_pv_yield`, by orientation bins.
"""

from __future__ import annotations

# Submodules are imported where used: importing the package stays light.
