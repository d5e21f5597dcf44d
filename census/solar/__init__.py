"""PV physics: weather to irradiance, system archetypes, capacity and yield (pvlib).

The ``pv`` config section is :class:`census.settings.pv.PVConfig`.

Modules
-------
resource
    Sun position at mid-interval, extraterrestrial irradiance, airmass.
systems
    Archetypes: coverage, capacity density, cell temperature.
spacing
    Row spacing on slopes by the GB 50797-2012 winter-solstice rule
    (:func:`~census.solar.spacing.row_layout`).
capacity
    :func:`~census.solar.capacity.add_pv_capacity`.
yield_
    :func:`~census.solar.yield_.add_pv_yield`, by orientation bins.
"""

from __future__ import annotations

# Submodules are imported where used: importing the package stays light.
