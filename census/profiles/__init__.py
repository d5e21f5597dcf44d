"""Hourly generation profiles by district (or zone) and technology, on xarray.

:func:`build_profiles` turns the yield stage's hourly series into a Dataset;
:mod:`census.io.profiles` writes it as ``profiles.nc`` (and Zarr on request).
See ``docs/profiles.md`` for the layout and how to feed it to PyPSA.
"""

from census.profiles.build import build_profiles, group_generation
from census.profiles.storage import storage_shift, storage_shift_by_district

__all__ = ["build_profiles", "group_generation", "storage_shift", "storage_shift_by_district"]
