"""Simulated job seekers: a Gymnasium environment and a runner that drives the service."""
