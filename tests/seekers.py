"""Simulated job seekers for the load and crash proofs: the clients of `vacrec bench load`
(src/vacrec/benchmarks/load.py, which says why not locust)."""

from vacrec.benchmarks.load import CLIENTS, PREFERENCES, LoadStats, run_load, seeker

__all__ = ["CLIENTS", "PREFERENCES", "LoadStats", "run_load", "seeker"]
