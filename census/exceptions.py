"""Exceptions raised by census.

Every message says what was expected, what was received and how to fix it.
The hierarchy is small on purpose (after rioxarray): catch :class:`CensusError`
to handle every problem census reports about its inputs.
"""

from __future__ import annotations

__all__ = [
    "CensusError",
    "ConfigError",
    "CRSError",
    "InputError",
    "MissingCRSError",
    "OutputExistsError",
    "PostGISError",
    "SchemaError",
    "WeatherError",
]


class CensusError(Exception):
    """Base class of every error census raises on purpose."""


class ConfigError(CensusError, ValueError):
    """A configuration file or value is wrong (unknown key, wrong type)."""


class InputError(CensusError, ValueError):
    """An input file or layer cannot be used as given."""


class SchemaError(InputError):
    """A table lacks a required column or has one of the wrong type."""


class CRSError(InputError):
    """A layer's coordinate reference system cannot be used."""


class MissingCRSError(CRSError):
    """A layer has no coordinate reference system."""


class WeatherError(InputError):
    """A weather file has gaps, impossible values or missing columns."""


class OutputExistsError(CensusError, FileExistsError):
    """An output folder already exists and overwriting was not asked for."""


class PostGISError(CensusError):
    """A PostgreSQL/PostGIS database cannot be reached or refused an export."""
