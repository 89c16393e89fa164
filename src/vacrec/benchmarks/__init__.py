"""Benchmarks behind `vacrec bench`: each returns its figures as one JSON-ready dict."""
