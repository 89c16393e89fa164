"""hh.ru API collector: asynchronous, rate-limited, resumable (see ``collector``)."""

from vacrec.collect.client import FetchError, HHClient, RetryPolicy
from vacrec.collect.collector import CollectParams, CollectSummary, SearchFailed, collect

__all__ = [
    "CollectParams",
    "CollectSummary",
    "FetchError",
    "HHClient",
    "RetryPolicy",
    "SearchFailed",
    "collect",
]
