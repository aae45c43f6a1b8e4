"""``journey user add|list|token`` and ``journey serve``: the web app's people, and serving it."""

from __future__ import annotations

from typing import Annotated

import typer

from journey.errors import JourneyError
from tracker.application import Users
from tracker.cli.common import err, open_tracker, out
from tracker.compose import serve

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()
user_app = typer.Typer(help="Manage the people who may use the web app and the API.",
                       no_args_is_help=True)
commands.add_typer(user_app, name="user")


def _users() -> Users:
    return open_tracker().users


def _fail(e: JourneyError) -> typer.Exit:
    err.print(f"[bold red]Refused:[/] {e.message}", highlight=False)
    return typer.Exit(2)


@user_app.command("add")
def user_add(name: Annotated[str, typer.Argument(help="The sign-in name.")],
             role: Annotated[str, typer.Option(help="navigator, clinician, auditor or admin.")],
             password: Annotated[str | None, typer.Option(
                 help="At least 10 characters; default: a random one, printed once.")] = None) -> None:
    """Create a user; prints the password (when generated) and the API token once."""
    try:
        created = _users().add(name, role, password)
    except JourneyError as e:
        raise _fail(e) from None
    out.print(f"Created {created.account.name} ({created.account.role.value}).", highlight=False)
    if password is None:
        out.print(f"password:  {created.password}", highlight=False)
    out.print(f"API token: {created.token}", highlight=False)
    out.print("These are shown once and stored only as hashes.")


@user_app.command("list")
def user_list() -> None:
    """Every user with their role."""
    for account in _users().list():
        state = "" if account.active else " (inactive)"
        out.print(f"{account.name:24} {account.role.value}{state}", highlight=False)


@user_app.command("token")
def user_token(name: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Issue a new API token for a user (the old one stops working); printed once."""
    try:
        token = _users().issue_token(name)
    except JourneyError as e:
        raise _fail(e) from None
    out.print(f"API token: {token}", highlight=False)


@commands.command("serve")
def serve_command(host: Annotated[str | None, typer.Option(help="Default: the host setting (127.0.0.1).")] = None,
                  port: Annotated[int | None, typer.Option(help="Default: the port setting (8000).")] = None,
                  ) -> None:
    """Serve the web pages and the REST API (/api/v1, OpenAPI at /api/v1/openapi.json)."""
    serve(open_tracker(), host, port)
