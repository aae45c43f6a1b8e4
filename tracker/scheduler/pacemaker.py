"""The pacemaker: APScheduler 3 drives the sweep, the outbox delivery and the daily digest.

What is due lives in the database; the jobs are idempotent, so running one late, twice, or after
downtime gives the same rows. The choices that make that so (see docs/scheduler.md):

- jobs are top-level functions with fixed ids (``journey-sweep``, ``journey-deliver``,
  ``journey-daily-digest``, ``journey-nightly-audit``), stored in the project database (``apscheduler_jobs``);
- ``job_defaults``: ``coalesce=True`` (missed runs collapse into one) and
  ``misfire_grace_time=None`` (a run missed while the process was down is run on start, not
  silently dropped as with the 1-second default), ``max_instances=1``;
- the sweep and the delivery are (re)scheduled to run at once on start; the digest keeps its
  stored next run when its trigger is unchanged, so a digest missed during downtime goes out once
  on start (the outbox key per team and day stops a second one);
- the digest is a ``CronTrigger`` in the site timezone: 07:30 local on both sides of a DST change;
  so is the nightly audit (01:30), which judges every patient for the new day and keeps the
  verdicts, so the day's audits read them instead of replaying every journey;
- the checkpoint (``journey-checkpoint``, every ``JOURNEY_CHECKPOINT_INTERVAL_MINUTES``) runs only
  when a checkpoint directory and a signing key are configured; it writes nothing when no log
  moved since the last one;
- **one active process**: APScheduler 3 must never share a job store, so only the holder of the
  ``scheduler_lease`` row starts it. The holder renews the lease every heartbeat; a standby tries
  to take it every heartbeat and succeeds once it has expired (a SIGKILLed holder is replaced
  within lease + heartbeat seconds). A holder that fails to renew stops its jobs at once.

The jobs only call the application (the Tracker's sweep, deliver, write_digests and
refresh_verdicts). The lease and APScheduler itself run on the wall clock handed in by the
composition root (tracker.compose), whatever clock the application's days are read from.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.application import Clock, LeaseUnavailable, Settings, Tracker

log = logging.getLogger("journey.scheduler")

JOB_SWEEP = "journey-sweep"
JOB_DELIVER = "journey-deliver"
JOB_DIGEST = "journey-daily-digest"
JOB_AUDIT = "journey-nightly-audit"
JOB_CHECKPOINT = "journey-checkpoint"

JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}

#: the tracker the jobs of this process work on (jobs are pickled by reference: they cannot
#: carry an engine, so the running process installs its tracker here)
_runtime: Tracker | None = None


def install(tracker: Tracker) -> None:
    global _runtime
    _runtime = tracker


def _tracker() -> Tracker:
    if _runtime is None:
        raise RuntimeError("No tracker installed: run the jobs through run_scheduler() or install().")
    return _runtime


# -- the jobs (top-level functions: APScheduler stores them by reference) ---------------------------
def sweep_job() -> None:
    tracker = _tracker()
    log.info("job %s (pid %d)", JOB_SWEEP, os.getpid())
    tracker.sweep(tracker.clock.today())


def deliver_job() -> None:
    tracker = _tracker()
    report = tracker.deliver()
    if report.sent or report.retrying or report.failed or report.superseded:
        log.info("job %s (pid %d): %s", JOB_DELIVER, os.getpid(), report.sentence())


def digest_job() -> None:
    tracker = _tracker()
    log.info("job %s (pid %d)", JOB_DIGEST, os.getpid())
    tracker.write_digests(tracker.clock.today())


def audit_job() -> None:
    tracker = _tracker()
    judged = tracker.refresh_verdicts()
    log.info("job %s (pid %d): %d patient(s) judged for %s", JOB_AUDIT, os.getpid(), judged,
             tracker.clock.today())


def checkpoint_job() -> None:
    tracker = _tracker()
    report = tracker.checkpoint()
    log.info("job %s (pid %d): %s", JOB_CHECKPOINT, os.getpid(), report.sentence())
    for problem in report.problems:
        log.error("job %s: %s", JOB_CHECKPOINT, problem)


def checkpoints_configured(settings: Settings) -> bool:
    return settings.checkpoint_path is not None and settings.checkpoint_key is not None


# -- the APScheduler --------------------------------------------------------------------------------
def digest_trigger(settings: Settings) -> CronTrigger:
    return _daily(settings, settings.digest_time)


def audit_trigger(settings: Settings) -> CronTrigger:
    return _daily(settings, settings.audit_time)


def _daily(settings: Settings, local_time: str) -> CronTrigger:
    hour, minute = (int(p) for p in local_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.site_timezone))


def build_scheduler(jobs: BaseJobStore, settings: Settings) -> BackgroundScheduler:
    """An APScheduler whose jobs are kept in ``jobs`` (the project database: Tracker.job_store)."""
    return BackgroundScheduler(
        jobstores={"default": jobs},
        job_defaults=dict(JOB_DEFAULTS), timezone=ZoneInfo(settings.site_timezone))


def schedule_jobs(scheduler: BackgroundScheduler, settings: Settings, now: datetime) -> None:
    """Add or update the jobs of a started (paused) scheduler."""
    scheduler.add_job(sweep_job, IntervalTrigger(minutes=settings.sweep_interval_minutes),
                      id=JOB_SWEEP, name="sweep reminders and timed transitions",
                      replace_existing=True, next_run_time=now)
    scheduler.add_job(deliver_job, IntervalTrigger(seconds=settings.delivery_interval_seconds),
                      id=JOB_DELIVER, name="deliver the notification outbox",
                      replace_existing=True, next_run_time=now)
    if checkpoints_configured(settings):
        scheduler.add_job(checkpoint_job, IntervalTrigger(minutes=settings.checkpoint_interval_minutes),
                          id=JOB_CHECKPOINT, name="sign a checkpoint of every patient's log",
                          replace_existing=True, next_run_time=now)
    elif scheduler.get_job(JOB_CHECKPOINT) is not None:
        scheduler.remove_job(JOB_CHECKPOINT)  # configured once, no longer
    for job_id, func, trigger, name in (
            (JOB_DIGEST, digest_job, digest_trigger(settings), "daily digest per care team"),
            (JOB_AUDIT, audit_job, audit_trigger(settings), "judge every patient for the new day")):
        existing = scheduler.get_job(job_id)
        if existing is None or str(existing.trigger) != str(trigger) or existing.func is not func:
            scheduler.add_job(func, trigger, id=job_id, name=name, replace_existing=True)
        # else: keep the stored next run, so a run missed during downtime happens once now


def start_jobs(tracker: Tracker, wall_clock: Clock) -> BackgroundScheduler:
    scheduler = build_scheduler(tracker.job_store(), tracker.settings)
    scheduler.start(paused=True)
    try:
        schedule_jobs(scheduler, tracker.settings, wall_clock.now())
        scheduler.resume()
    except Exception:
        stop_jobs(scheduler, wait=False)
        raise
    return scheduler


def stop_jobs(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    """Stop without losing a run. APScheduler 3's ``shutdown`` stops the executors first, and its
    thread may then look for due jobs once more: a job due at that moment is "submitted" to the
    stopped executor, fails, and its next run time moves on (that run is lost). Detaching the job
    store first leaves that last look nothing to take; the stored jobs stay as they were."""
    scheduler.pause()
    scheduler.remove_jobstore("default", shutdown=False)
    scheduler.shutdown(wait=wait)


# -- the lease: one active scheduler per database ---------------------------------------------------
def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_scheduler(tracker: Tracker, stop: threading.Event, wall_clock: Clock,
                  holder: str | None = None) -> None:
    """Hold the lease and run the jobs, or stand by until the lease is free; until ``stop``."""
    install(tracker)
    settings = tracker.settings
    lease = tracker.scheduler_lease(holder or default_holder())
    scheduler: BackgroundScheduler | None = None
    standing_by = False
    log.info("scheduler %s starting (lease %d s, heartbeat %d s)", lease.holder,
             settings.scheduler_lease_seconds, settings.scheduler_heartbeat_seconds)
    try:
        while not stop.is_set():
            try:
                held = lease.acquire(wall_clock.now())
            except LeaseUnavailable as e:  # database unreachable or locked too long
                log.warning("could not renew the scheduler lease: %s", e)
                held = False
            if held and scheduler is None:
                log.info("scheduler %s holds the lease: running the jobs", lease.holder)
                scheduler = start_jobs(tracker, wall_clock)
                standing_by = False
            elif not held and scheduler is not None:
                log.warning("scheduler %s lost the lease: stopping its jobs", lease.holder)
                stop_jobs(scheduler, wait=False)
                scheduler = None
            if not held and not standing_by:
                log.info("scheduler %s standing by: another process holds the lease", lease.holder)
                standing_by = True
            stop.wait(settings.scheduler_heartbeat_seconds)
    finally:
        if scheduler is not None:
            stop_jobs(scheduler, wait=True)
            lease.release()
            log.info("scheduler %s stopped and released the lease", lease.holder)
