"""Readers and writers: the only code in census that touches files."""
