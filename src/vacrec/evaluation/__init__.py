"""Evaluation: off-policy estimators from logged propensities, simulator evaluation, reports."""
