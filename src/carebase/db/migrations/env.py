"""Alembic environment: runs against the engine carebase hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from carebase.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    # `alembic -x url=...` from a shell, e.g. to write a new revision.
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("run migrations through `carebase migrate`, or pass -x url=...")
    return create_engine(url)


def run_migrations_online() -> None:
    """Apply migrations in one transaction per run (both engines have transactional DDL)."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # SQLite does roll DDL back; Alembic just does not assume so by default.
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("carebase migrations run online only")
run_migrations_online()
