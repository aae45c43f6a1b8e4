"""``journey user add|list|token|revoke-token|deactivate|activate|reset-password``, ``journey
access-log`` and ``journey serve``: the web app's people, who looked at what, and serving it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from tracker.cli.common import friendly, open_tracker, out, say
from tracker.compose import serve

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()
user_app = typer.Typer(help="Manage the people who may use the web app and the API.",
                       no_args_is_help=True)
commands.add_typer(user_app, name="user")

Name = Annotated[str, typer.Argument(help="The user's sign-in name.")]


def _as_operator(action: str, name: str, **options: Any) -> Any:
    """``Users.<action>(name, ...)`` on the configured database, done by the CLI's actor (for the
    access log: JOURNEY_ACTOR, default cli:$USER)."""
    tracker = open_tracker()
    return getattr(tracker.users, action)(name, by=tracker.settings.actor, **options)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@user_app.command("add")
@friendly
def user_add(name: Name,
             role: Annotated[str, typer.Option(help="navigator, clinician, auditor or admin.")],
             password: Annotated[str | None, typer.Option(
                 help="10 to 256 characters; default: a random one, printed once.")] = None) -> None:
    """Create a user; prints the password (when generated) and the API token once."""
    created = _as_operator("add", name, role=role, password=password)
    say(f"Created {created.account.name} ({created.account.role.value}).")
    if password is None:
        say(f"password:  {created.password}")
    say(f"API token: {created.token}  (expires {_when(created.account.token_expires_at)} UTC)")
    out.print("These are shown once and stored only as hashes.")


@user_app.command("list")
@friendly
def user_list() -> None:
    """Every user with their role, whether active, and their API token's expiry and last use (one
    line each, name first: scripts read it)."""
    for account in open_tracker().users.list():
        state = "active" if account.active else "inactive"
        say(f"{account.name:24} {account.role.value:10} {state:8} token expires {_when(account.token_expires_at)}"
            f", last used {_when(account.token_last_used_at)} (UTC)")


@user_app.command("token")
@friendly
def user_token(name: Name) -> None:
    """Issue a new API token for a user (the old one stops working); printed once."""
    say(f"API token: {_as_operator('issue_token', name)}  (valid for JOURNEY_API_TOKEN_DAYS, 90 by default)")


@user_app.command("revoke-token")
@friendly
def user_revoke_token(name: Name) -> None:
    """The user's API token stops working now (no new one is issued)."""
    _as_operator("revoke_token", name)
    say(f"{name}'s API token no longer works.")


@user_app.command("deactivate")
@friendly
def user_deactivate(name: Name) -> None:
    """The user can no longer sign in: their web sessions end now and their API token is revoked."""
    ended = _as_operator("deactivate", name)
    say(f"{name} is deactivated; {ended} open session(s) ended, API token revoked.")


@user_app.command("activate")
@friendly
def user_activate(name: Name) -> None:
    """A deactivated user may sign in again (issue a token with `journey user token` for the API)."""
    _as_operator("activate", name)
    say(f"{name} may sign in again.")


@user_app.command("reset-password")
@friendly
def user_reset_password(name: Name,
                        password: Annotated[str | None, typer.Option(
                            help="10 to 256 characters; default: a random one, printed once.")] = None,
                        ) -> None:
    """A new password for the user (printed once when generated); their web sessions end and a
    sign-in lock on their name lifts."""
    chosen = _as_operator("reset_password", name, password=password)
    say(f"{name}'s password was reset; their open sessions ended.")
    if password is None:
        say(f"password:  {chosen}")


@commands.command("access-log")
@friendly
def access_log(patient: Annotated[str | None, typer.Option("--patient", help="Who looked at this patient "
                                                            "(the reference as recorded).")] = None,
               user: Annotated[str | None, typer.Option("--user", help="What this user looked at and did.")] = None,
               limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many rows at most, newest first.")] = 200,
               ) -> None:
    """Who read or changed what, when, through which channel (web pages, api, cli) and from where."""
    rows = open_tracker().users.access_log(patient, limit, user=user)
    if not rows:
        say("Nothing in the access log" + (f" for patient {patient}" if patient else "")
            + (f" by {user}" if user else "") + ".")
        return
    table = Table(title="Access log" + (f": patient {patient}" if patient else "") + (f": user {user}" if user else ""))
    for column in ("when (UTC)", "user", "channel", "client", "action", "patient", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.at.strftime("%Y-%m-%d %H:%M:%S"), row.user, row.channel or "-", row.client or "-",
                      row.action, row.patient_ref or "", row.detail)
    out.print(table)


@commands.command("serve")
@friendly
def serve_command(host: Annotated[str | None, typer.Option(help="Default: the host setting (127.0.0.1).")] = None,
                  port: Annotated[int | None, typer.Option(help="Default: the port setting (8000).")] = None,
                  workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes serving the one port (default: the web_workers setting, 1). One per core; the scheduler runs apart (journey scheduler).")] = None,
                  ) -> None:
    """Serve the web pages and the REST API (/api/v1, OpenAPI at /api/v1/openapi.json)."""
    tracker = open_tracker()
    serve(tracker, host, port, workers or tracker.settings.web_workers)
