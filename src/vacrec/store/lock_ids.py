"""Every PostgreSQL advisory lock id the store takes, in one place.

Advisory locks are per database and keyed by a bare number: two uses sharing one id would
block each other for no reason (a refresh stalling the vote job). ``@unique`` makes a
repeated id fail at import."""

from enum import IntEnum, unique


@unique
class AdvisoryLock(IntEnum):
    INGEST = 7_305_001  # session lock: one ingest's publishing at a time across replicas
    MIGRATION = 7_305_002  # session lock: one migrating process at a time
    TRAINING = 7_305_003  # session lock: one training at a time
    REFRESH = 7_305_004  # session lock: one catalog refresh at a time
    VOTES = 7_305_005  # transaction lock: one rebuild of the vacancies' vote table at a time
