"""The stages of a census run, each a function ``(sites, ctx) -> (sites, ctx)``.

A run is the chain :data:`STAGES`: load -> screen -> capacity -> yield -> roll-up ->
outputs. Each stage takes the site table and the :class:`RunContext`, adds its
columns to the table and its results to the context, and returns both; a stage
can be run alone on a hand-made table and context. Only the load stage reads
input files and only the outputs stage writes.

============  ==================================  =====================================
stage         adds to the site table              adds to the context
============  ==================================  =====================================
load          ``site_id``, ``category``,          districts, exclusions, rasters,
              ``district``, ``adcode``,           weather groups, existing capacity,
              ``area_m2``, source attributes      turbine, wind-atlas samples
screen        ``eligible``, ``exclusion_reasons``, usable geometry, tally
              ``usable_area_m2``, terrain,
              ``technology``, ``pv_archetype``
capacity      ``capacity_mw_dc``/``_ac``,         turbines, tally (again, with
              ``n_turbines``                      ``no_turbine_room``)
yield         ``specific_yield_kwh_kwp``,         PV hourly profile, turbine energy
              ``energy_mwh_yr``,
              ``capacity_factor``
roll-up       (missing capacity/energy -> 0)      district/city/target tables,
                                                  supply curve, existing-capacity gap
outputs       (nothing)                           provenance, files written
============  ==================================  =====================================
"""

from __future__ import annotations

from census.stages.capacity import size_capacity
from census.stages.context import RunContext, WeatherGroup
from census.stages.load import input_paths, load_inputs
from census.stages.outputs import record_provenance, write_outputs
from census.stages.rollup import roll_up
from census.stages.screen import screen
from census.stages.yield_ import estimate_yield

__all__ = [
    "STAGES",
    "RunContext",
    "WeatherGroup",
    "estimate_yield",
    "input_paths",
    "load_inputs",
    "record_provenance",
    "roll_up",
    "screen",
    "size_capacity",
    "write_outputs",
]

STAGES = (
    ("load inputs", load_inputs),
    ("screen sites", screen),
    ("capacity", size_capacity),
    ("yield", estimate_yield),
    ("roll-up", roll_up),
    ("provenance", record_provenance),
    ("write outputs", write_outputs),
)
"""The run's stages in order, with the names progress reports and timings use."""
