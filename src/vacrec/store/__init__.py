"""Persistence: SQLAlchemy Core tables, migrations and the queries each part needs."""
