"""Alembic environment: runs on the connection config.migrate hands it, SQLite or PostgreSQL alike."""

from alembic import context
from sqlmodel import SQLModel

import config.tables  # noqa: F401  (registers every table on the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
