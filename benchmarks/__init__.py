"""Benchmarks of skvae against its alternatives: speed and statistical quality.

Run everything with ``python benchmarks/run_all.py`` (``--quick`` for a smoke
run); see ``benchmarks/README.md``. Each module is also importable, so the
smoke test runs the same code paths at tiny sizes.
"""
