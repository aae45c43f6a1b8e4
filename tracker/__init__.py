"""The application around the pure domain (journey), in rooms (docs/architecture.md):

    compose.py     the composition root: settings, engine, migrations, the real clock; starts programs
    application/   the Tracker, the one service object the faces call, and its use cases
    cli/ web/      the faces people use: the ``journey`` command, the pages and the REST API
    scheduler/     the face time uses: the pacemaker (APScheduler, the lease)
    reports/       the audit report, the CSV and XES exports
    demo/          the synthetic cohort and the two ways it is written
    clock.py       the one reader of the real clock
    settings.py    the settings (``JOURNEY_*``), read once at the composition root
"""
