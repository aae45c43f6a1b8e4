"""Delivering the outbox to a real local HTTP server and a real local SMTP server (both on
127.0.0.1, in threads of the test), including servers that fail twice before they accept."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socketserver
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from db.tables import NotificationRow
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, scenario
from tracker.application import Tracker
from tracker.application.notifications import deliver
from tracker.application.sweep import sweep
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

DUE = date(2025, 3, 10)
T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # FixedClock(DUE).now(): the notice is written then
SECRET = "s3cret"


class Webhook(ThreadingHTTPServer):
    def __init__(self, fail_first: int) -> None:
        super().__init__(("127.0.0.1", 0), WebhookHandler)
        self.fail_remaining = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/journey"


class WebhookHandler(BaseHTTPRequestHandler):
    server: Webhook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k: v for k, v in self.headers.items()}, body))
        failing = self.server.fail_remaining > 0
        if failing:
            self.server.fail_remaining -= 1
        self.send_response(503 if failing else 202)
        self.end_headers()
        self.wfile.write(b"busy" if failing else b"ok")

    def log_message(self, *args: Any) -> None:
        pass


class Smtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT; the first ``fail_first``
    messages are refused at the end of DATA with 451 (try again later)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fail_first: int) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.fail_remaining = fail_first
        self.messages: list[Message] = []
        self.refused = 0


class SmtpHandler(socketserver.StreamRequestHandler):
    server: Smtp

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    if self.server.fail_remaining > 0:
                        self.server.fail_remaining -= 1
                        self.server.refused += 1
                        self.reply("451 4.3.0 try again later")
                    else:
                        self.server.messages.append(email.message_from_bytes(b"".join(data)))
                        self.reply("250 2.0.0 queued")
                    data = None
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 test")
            elif verb == b"DATA":
                data = []
                self.reply("354 end with .")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


def serve(server: socketserver.BaseServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    yield from serve(Webhook(fail_first=2))


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    yield from serve(Smtp(fail_first=2))


Make = Callable[..., Tracker]


@pytest.fixture
def clinic(tmp_path: Path) -> Make:
    """``clinic(**settings)``: a tracker on a SQLite file with one patient whose reassessment is
    due on DUE, swept on DUE (so the outbox holds its 'due' notice)."""

    def make(**overrides: Any) -> Tracker:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'journey.sqlite'}",
                            notification_backoff_seconds=60, **overrides)
        tracker = build_tracker(settings, clock=FixedClock(date(2025, 1, 10)))
        tracker.import_scenario(read_scenario(scenario(*PERIOP_START)), actor="test")
        tracker = Tracker(tracker.engine, FixedClock(DUE), settings)
        sweep(tracker, DUE)
        return tracker

    return make


def outbox(tracker: Tracker) -> list[NotificationRow]:
    with Session(tracker.engine) as session:
        return list(session.exec(select(NotificationRow).order_by(col(NotificationRow.id))))


def test_a_webhook_that_fails_twice_gets_the_notice_on_the_third_attempt_signed_and_keyed(
        clinic: Make, webhook: Webhook) -> None:
    tracker = clinic(webhook_url=webhook.url, webhook_secret=SECRET)
    first = deliver(tracker, T0)
    assert first.retrying and not first.sent
    (row,) = outbox(tracker)
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + timedelta(seconds=60))
    assert "503" in (row.last_error or "")
    assert deliver(tracker, T0 + timedelta(seconds=59)).retrying == []  # not before its time
    assert deliver(tracker, T0 + timedelta(seconds=60)).retrying  # second failure, waits 120 s
    (row,) = outbox(tracker)
    assert row.next_attempt_at == T0 + timedelta(seconds=180)
    third = deliver(tracker, T0 + timedelta(seconds=180))
    assert third.sent == [row.idempotency_key]
    (row,) = outbox(tracker)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 3, T0 + timedelta(seconds=180))
    assert deliver(tracker, T0 + timedelta(days=1)).sent == []  # sent once, never again

    assert len(webhook.received) == 3
    keys = {headers["Idempotency-Key"] for headers, _ in webhook.received}
    assert keys == {row.idempotency_key}  # every retry carries the same key
    headers, body = webhook.received[-1]
    expected = hmac.new(SECRET.encode(), headers["X-Journey-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Journey-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert (payload["patient"], payload["kind"], payload["status"], payload["due_on"]) == \
        ("T-0001", "reassessment_due", "due", "2025-03-10")


def test_an_smtp_server_that_fails_twice_gets_the_mail_on_the_third_attempt(clinic: Make, smtp: Smtp) -> None:
    tracker = clinic(smtp_host="127.0.0.1", smtp_port=smtp.server_address[1],
                     smtp_to="liver-team@example.org, navigator@example.org")
    for seconds in (0, 60, 180):
        deliver(tracker, T0 + timedelta(seconds=seconds))
    (row,) = outbox(tracker)
    assert (row.channel, row.state, row.attempts) == ("email", "sent", 3)
    assert smtp.refused == 2 and len(smtp.messages) == 1
    message = smtp.messages[0]
    assert "T-0001" in message["Subject"] and "due" in message["Subject"]
    assert message["Message-ID"] == f"<{row.idempotency_key}@crlm-journey>"
    assert message["To"] == "liver-team@example.org, navigator@example.org"
    assert "journey reminder ack|snooze|dismiss 1" in message.get_payload(decode=True).decode()


def test_after_the_last_attempt_a_notice_is_failed_and_shown_never_dropped(
        clinic: Make, webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    webhook.fail_remaining = 10**6
    tracker = clinic(webhook_url=webhook.url, notification_max_attempts=3)
    now = T0
    for _ in range(5):
        deliver(tracker, now)
        now += timedelta(hours=1)
    (row,) = outbox(tracker)
    assert (row.state, row.attempts) == ("failed", 3) and "attempt 3" in (row.last_error or "")
    assert len(webhook.received) == 3

    from tracker.cli import app

    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{tmp_path / 'journey.sqlite'}")
    runner = CliRunner()
    shown = runner.invoke(app, ["notifications", "--failed"])
    assert shown.exit_code == 1, shown.output
    assert "failed" in shown.output and "T-0001" in shown.output
    requeued = runner.invoke(app, ["notifications", "--retry-failed"])
    assert requeued.exit_code == 0 and "1 failed notification(s) offered again" in requeued.output
    assert outbox(tracker)[0].state == "pending"


def test_each_configured_channel_gets_its_own_notice_once(clinic: Make, webhook: Webhook, smtp: Smtp) -> None:
    webhook.fail_remaining = smtp.fail_remaining = 0
    tracker = clinic(webhook_url=webhook.url, smtp_host="127.0.0.1", smtp_port=smtp.server_address[1],
                     smtp_to="team@example.org")
    sweep(tracker, DUE)  # a second sweep of the same day adds nothing
    assert sorted(n.channel for n in outbox(tracker)) == ["email", "webhook"]
    report = deliver(tracker, T0)
    assert len(report.sent) == 2 and len(webhook.received) == 1 and len(smtp.messages) == 1
