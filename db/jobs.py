"""APScheduler's job store: the scheduler's jobs kept in the project database (its own table,
``apscheduler_jobs``, created and written by APScheduler, not by the migrations)."""

from __future__ import annotations

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine

JOBS_TABLE = "apscheduler_jobs"


def job_store(engine: Engine) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
