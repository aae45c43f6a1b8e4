"""``journey checkpoint`` (witness every patient's log now, in a signed checkpoint kept outside the
database), ``journey checkpoint keygen`` (the Ed25519 key pair that signs them) and ``journey
checkpoint proof REF`` (one patient's inclusion proof). ``journey verify --checkpoints PATH``
proves the database against them (tracker/cli/patients.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracker.application import generate_keys
from tracker.cli.common import friendly, open_tracker, out, say

checkpoint_app = typer.Typer(help="Signed checkpoints of every patient's event log (docs/operations.md).")


@checkpoint_app.callback(invoke_without_command=True)
@friendly
def checkpoint(ctx: typer.Context) -> None:
    """Witness every patient's log now: a signed checkpoint appended to JOURNEY_CHECKPOINT_PATH
    (exit 1 if a log no longer extends the last checkpoint)."""
    if ctx.invoked_subcommand is not None:
        return
    report = open_tracker().checkpoint()
    say(report.sentence())
    for problem in report.problems:
        out.print(f"[red]x[/] {problem}", highlight=False)
    if report.problems:
        raise typer.Exit(1)


@checkpoint_app.command("keygen")
@friendly
def keygen(
        private: Annotated[Path, typer.Argument(help="Where to write the private key (a new file, mode 0600); "
                                                "JOURNEY_CHECKPOINT_KEY names it.")],
        public: Annotated[Path, typer.Argument(help="Where to write the public key (what verifiers need); "
                                               "append it to JOURNEY_CHECKPOINT_PUBLIC_KEYS.")]) -> None:
    """Make an Ed25519 key pair for signing checkpoints. Keep the private key off the database host's
    backups and out of the database; give the public key to whoever verifies."""
    kid = generate_keys(private, public)
    say(f"Key {kid}: private key in {private} (mode 0600), public key in {public}.")


@checkpoint_app.command("proof")
@friendly
def proof(
        ref: Annotated[str, typer.Argument(help="The patient's reference.")],
        checkpoints: Annotated[Path | None, typer.Option(
            "--checkpoints", help="A checkpoint directory or file; default JOURNEY_CHECKPOINT_PATH.")] = None,
) -> None:
    """Print one patient's inclusion proof in the last checkpoint (JSON): the signed statement, the
    patient's leaf and its audit path; the public key is all it takes to check it."""
    # no database is needed: the proof comes from the checkpoint files
    print(json.dumps(open_tracker(migrate=False).checkpoint_proof(ref, checkpoints), indent=2))


@checkpoint_app.command("check-proof")
@friendly
def check_proof(
        file: Annotated[Path, typer.Argument(help="A proof written by `journey checkpoint proof`.")],
        public_key: Annotated[list[Path] | None, typer.Option(
            "--public-key", help="A file of trusted public keys (repeatable); default "
                                 "JOURNEY_CHECKPOINT_PUBLIC_KEYS.")] = None) -> None:
    """Check one patient's proof with the public key alone (exit 1 if it does not hold)."""
    try:
        given = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise typer.BadParameter(f"{file} cannot be read as JSON ({e}).") from None
    why = open_tracker(migrate=False).check_checkpoint_proof(given, public_key or None)
    if why:
        out.print(f"[red]x[/] The proof does not hold: {why}.", highlight=False)
        raise typer.Exit(1)
    leaf, statement = given["leaf"], given["statement"]
    say(f"The proof holds: checkpoint {statement['sequence']} ({statement['issued_at']}) witnessed "
        f"{leaf['ref']} with {leaf['length']} entries ending in {leaf['head']}.")
