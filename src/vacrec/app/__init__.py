"""The application layer: each use case composes the pure core with the store.

The core (``catalog``, ``ranking``, ``agent``, ``evaluation``) takes arrays, dataclasses and
explicit arguments; ``store`` is SQL only; ``service`` is HTTP only. What reads the store,
reads the settings or runs a background thread to feed the core lives here.
"""
