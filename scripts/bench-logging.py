"""What logging simulated events through the service costs, and a digest of what it logged.

Not a test and not part of ``vacrec bench``: the measurement behind the README's logging figure
("Peers on the same logs"). It logs ``--events`` simulated requests at ε = 1 exactly as
``vacrec bench train`` does (``simulate_into_store`` into a temporary SQLite store with the
catalog ingested) and prints the wall and CPU milliseconds per event after the first (the
snapshot build and the simulator's set-up come before it), then a digest of the logged rows as
training reads them: two trees that log the same rows print the same digest. The machine is
shared, so compare CPU per event of two trees run one after the other (A, B, A, B).

Run: ``PYTHONPATH=src .venv/bin/python scripts/bench-logging.py --events 400``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from vacrec.app.simulation import simulate_into_store
from vacrec.app.training import LogSelection, read_training_logs
from vacrec.benchmarks.store import catalog_store
from vacrec.config import Settings

CATALOG = Path("/work/shared/data/hh_artist_vacancies_2023.xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--taste", default="independent", choices=("independent", "contradicting"))
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    args = parser.parse_args()
    n = args.events
    wall: dict[int, float] = {}
    cpu: dict[int, float] = {}

    def progress(done: int) -> None:
        if done in (1, n):
            wall[done], cpu[done] = time.perf_counter(), time.process_time()

    with catalog_store(args.catalog, "bench logging", lambda _msg: None) as (engine, home):
        settings = Settings(
            home=home, database_url=str(engine.url), epsilon=1.0, simulator_seed=args.seed
        )
        start = time.perf_counter()
        summary = simulate_into_store(
            engine, settings, n, args.seed, progress=progress, taste=args.taste
        )
        _, _, log = read_training_logs(engine, settings, LogSelection(simulated=True))
    per_wall = 1000 * (wall[n] - wall[1]) / (n - 1)
    per_cpu = 1000 * (cpu[n] - cpu[1]) / (n - 1)
    print(
        f"{n} events: {per_wall:.2f} ms wall, {per_cpu:.2f} ms CPU an event after the first "
        f"({wall[1] - start:.1f} s before it); mean reward {summary['mean_reward']:.4f}"
    )
    digest = (
        len(log),
        int(log.actions.sum()),
        float(log.rewards.sum()),
        float(np.nansum(log.propensities)),
        int(log.state.sum()),
        int(log.next_state.sum()),
        float(log.contexts.content.sum()),
    )
    print("digest (rows, actions, rewards, propensities, states, next states, content):", digest)


if __name__ == "__main__":
    main()
