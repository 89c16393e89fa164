"""`vacrec serve` as an operator runs it (a subprocess in its own process group): the
starter `vacrec bench load` uses (src/vacrec/benchmarks/load.py), shared by the proofs."""

from vacrec.benchmarks.load import READY_TIMEOUT_S, ServeProcess, free_port, vacrec_env

__all__ = ["READY_TIMEOUT_S", "ServeProcess", "free_port", "vacrec_env"]
