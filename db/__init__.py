"""Persistence: every SQL statement and every row type of the tracker (docs/architecture.md).

    engine.py        engines for the configured URL (SQLite tuned for durability; PostgreSQL)
    migrate.py       Alembic migrations, run on start-up (migrations/)
    tables.py        the SQLModel tables (nothing outside db/ imports them)
    records.py       the frozen values the repositories hand out instead of rows
    unit_of_work.py  one transaction, committed explicitly, with the repositories below
    conflicts.py     lost races, told in one sentence
    patients.py      patients and their hash-chained event logs; the version guard
    reminders.py     reminders (the one writer, mapping and key) and what people did with them
    outbox.py        the notification outbox
    sweep.py         the sweep's reads and writes
    verdicts.py      the day's audit verdicts
    users.py         accounts and the access log
    lease.py         the scheduler lease
    jobs.py          APScheduler's job store, in the same database
    bulk.py          the bulk path (cohorts of a million)
    backup.py        backups and restores (SQLite online backup, pg_dump/pg_restore)
"""
