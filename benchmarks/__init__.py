"""Overhead benchmarks of data2vec-contracts: every figure is a ratio of two things timed side by side.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``) from the repository root; ``--quick``
for a short run. The table goes to stdout and the numbers to ``benchmarks/results.json``.
"""
