"""Advisory lock ids: one number per lock, so no two uses block each other."""

from vacrec.store import db, locks, vacancy_votes
from vacrec.store.lock_ids import AdvisoryLock


def test_every_lock_the_store_takes_has_its_own_id() -> None:
    used = [
        locks.INGEST_LOCK_KEY,
        db._PG_MIGRATION_LOCK,
        locks.TRAINING_LOCK_KEY,
        locks.REFRESH_LOCK_KEY,
        vacancy_votes.VOTES_LOCK_KEY,
    ]
    assert len(set(used)) == len(used)
    assert sorted(used) == sorted(int(lock) for lock in AdvisoryLock)
    assert all(type(key) is int for key in used)  # an Enum would reach PostgreSQL as a name
