"""Schema migrations (Alembic): `matching.store.db.make_engine` runs the pending ones."""
