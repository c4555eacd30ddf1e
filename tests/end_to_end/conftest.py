"""The end-to-end fixtures (a PostgreSQL server, Meltano), shared by every test here."""

from tests.end_to_end.meltano_postgres import default_schema, meltano, postgres

__all__ = ["default_schema", "meltano", "postgres"]
