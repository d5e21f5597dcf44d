"""Passwords out of connection strings and messages (stdlib only, imported by config).

libpq takes a password in a URL (``postgresql://user:SECRET@host/db``), in a
``key=value`` conninfo string (``password=SECRET``) or as a URL query parameter
(``?password=SECRET``). census never shows one: :func:`redact` replaces it with ``***``
in error messages, and :class:`RedactFilter` does so in every log record the command
line prints. A config refuses a URL with a password (it would be copied into the run
folder's ``config.toml`` and ``provenance.json``).

Written here rather than taken from psycopg (``psycopg.conninfo.conninfo_to_dict``
parses a string, it does not clean a message that merely contains one) and kept free
of imports beyond the standard library, so the config module can use it.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactFilter", "has_password", "redact"]

_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/?#@\s]*:)([^@\s]*)(@)", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """Replace every password in ``text`` (URLs and ``key=value`` strings) with ``***``.

    Parameters
    ----------
    text : str
        Any text: a connection URL, a libpq conninfo string, an error message.

    Returns
    -------
    str
        ``text`` with ``postgresql://user:SECRET@host`` and ``password=SECRET``
        (also as a URL query parameter) replaced by ``***``.

    Examples
    --------
    >>> redact("postgresql://gis:s3cret@db.example/census")
    'postgresql://gis:***@db.example/census'
    >>> redact("host=db password='a b' dbname=census")
    'host=db password=*** dbname=census'
    """
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    return _KV_PASSWORD.sub(r"\1***", text)


def has_password(url: str) -> bool:
    """Whether a PostgreSQL URL or conninfo string carries a password.

    Parameters
    ----------
    url : str
        ``postgresql://...`` URL or libpq ``key=value`` string.

    Returns
    -------
    bool
    """
    return redact(url) != url


class RedactFilter(logging.Filter):
    """A logging filter that removes passwords from every record it lets through.

    The record's message is formatted once (``msg % args``), redacted, and stored
    back without arguments, so every handler after the filter sees the clean text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always let it through.

        Parameters
        ----------
        record : logging.LogRecord
            The record being handled.

        Returns
        -------
        bool
            Always True.
        """
        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True
