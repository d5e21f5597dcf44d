"""The strict pydantic base every configuration model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """A pydantic model that refuses unknown keys.

    A misspelt key in a user's TOML is then an error naming the key instead of
    a value silently ignored. Models that must not change after validation add
    ``frozen=True`` as a class keyword: ``class PVConfig(Strict, frozen=True)``.
    """

    model_config = ConfigDict(extra="forbid")
