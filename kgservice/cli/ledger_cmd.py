"""`shield ledger verify|checkpoint|keygen`: check the ledger from outside the service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from neo4j import READ_ACCESS
from neo4j.exceptions import DriverError, Neo4jError

from kgservice.cli.context import (
    fail,
    graph_session,
    ledger_from_settings,
    out,
    print_json,
    settings,
)
from kgservice.cli.exit_codes import Exit
from kgservice.graph.database import create_sync_driver
from kgservice.ledger import repository as repo
from kgservice.ledger.signing import Checkpoint, generate_key_file, key_id, public_from_b64
from kgservice.ledger.verify import BATCH, Report, verify_ledger

app = typer.Typer(help="Verify the ledger, export signed checkpoints, make signing keys.")


def _read_checkpoint(path: Path) -> tuple[Checkpoint, str]:
    try:
        data = json.loads(path.read_text("utf-8"))
        return Checkpoint.from_json(data), str(data["public_key"])
    except (OSError, ValueError, KeyError) as e:
        fail(f"cannot read checkpoint {path}: {e}", Exit.usage)


def _verify(
    public: Ed25519PublicKey, origin: str, kept: Checkpoint | None, every_signature: bool
) -> Report:
    cfg = settings()
    try:
        with (
            create_sync_driver(cfg) as driver,
            driver.session(
                database=cfg.neo4j.database, fetch_size=BATCH, default_access_mode=READ_ACCESS
            ) as session,
        ):
            head = session.execute_read(repo.read_head_sync)

            def fetch(start: int, limit: int) -> list[dict[str, Any]]:
                return session.execute_read(repo.entries_from_sync, start, limit)

            return verify_ledger(fetch, head, public, origin, kept, every_signature)
    except (DriverError, Neo4jError, OSError) as e:
        fail(f"cannot read the ledger from {cfg.neo4j_uri}: {e}", Exit.environment)
    except LookupError as e:
        fail(str(e), Exit.environment)


def _report_json(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "size": report.size,
        "root": report.root.hex(),
        "first_bad": report.first_bad,
        "problems": report.problems,
        "signatures_checked": report.signatures_checked,
    }


@app.command()
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="a checkpoint exported earlier; its public key is the one trusted"),
    ] = None,
    every_signature: Annotated[
        bool, typer.Option(help="check every entry's signature, not two")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Recompute every leaf and root from Neo4j; name the first bad entry. Exit 1 if any."""
    if checkpoint is not None:
        kept, public_b64 = _read_checkpoint(checkpoint)
        public, origin = public_from_b64(public_b64), kept.origin
    else:
        signer = ledger_from_settings().signer
        kept, public, origin = None, signer.public, signer.origin

    report = _verify(public, origin, kept, every_signature)
    if fmt == "json":
        print_json(_report_json(report))
    elif report.ok:
        out.print(f"ledger OK: {report.size} entries, root {report.root.hex()}")
        out.print(f"key {key_id(public)}; {report.signatures_checked} signatures checked")
    else:
        out.print(f"ledger FAILED verification; first bad entry: {report.first_bad}")
        for problem in report.problems:
            out.print(f"  - {problem}")
    if not report.ok:
        raise typer.Exit(int(Exit.failure))


@app.command("checkpoint")
def export_checkpoint(
    out_file: Annotated[Path, typer.Option("--out", help="where to write the signed checkpoint")],
) -> None:
    """Export the latest signed checkpoint (with its public key) to keep outside the database."""
    ledger = ledger_from_settings()

    async def run() -> Checkpoint | None:
        async with graph_session() as graph:
            return await graph.read(ledger.checkpoint)

    latest = asyncio.run(run())
    if latest is None:
        fail("the ledger is empty: nothing to checkpoint", Exit.not_found)
    data = latest.as_json(ledger.signer.public)
    out_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    out.print(f"checkpoint size {latest.size} root {latest.root.hex()} → {out_file}")


@app.command()
def keygen(
    out_file: Annotated[Path, typer.Option("--out", help="new PEM file (must not exist)")],
) -> None:
    """Create an Ed25519 ledger signing key (set HS_LEDGER__SIGNING_KEY_FILE to use it)."""
    if out_file.exists():
        fail(f"{out_file} exists; refusing to overwrite a signing key", Exit.conflict)
    generate_key_file(out_file)
    out.print(f"wrote {out_file} (mode 600)")
