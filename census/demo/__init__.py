"""The synthetic Hangzhou demo: its generator ships in the package and runs in process.

See :mod:`census.demo.generate` (what is made and how) and
:func:`census.io.demo.ensure_demo_data` (when it is made).
"""
