"""Pydantic models of each stage's settings, imported by :mod:`census.config`.

These modules import only pydantic and census's own base modules (units, crs,
exceptions, resources), never a stage (``census.sites``, ``census.solar``,
``census.wind``, ``census.supply`` ...): the configuration sits below every stage,
so a stage may type its arguments with the whole :class:`census.config.CensusConfig`
without an import cycle.

Modules
-------
base
    :class:`~census.settings.base.Strict`, the one strict pydantic base.
rules
    Screening rules (``[rules]``).
pv
    PV technologies, archetypes, losses, inverter (``[pv]``).
wind
    Turbine, profile, layout, wake, losses, resource (``[wind]``).
costs
    Cost assumptions of the supply curve (``[costs]``).
"""

from __future__ import annotations
