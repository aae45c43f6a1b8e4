"""The scheduler: the pacemaker that drives time (tracker.scheduler.pacemaker). What it runs (the
sweep, the digest, the delivery of the outbox, the nightly audit) are the application's use cases."""
