"""vacrec: a job-vacancy recommender that learns from its users."""

__version__ = "0.1.0"
