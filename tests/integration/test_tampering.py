"""Every kind of tampering with the stored ledger is detected and the first bad entry named.

The attacker has write access to Neo4j but not the signing key. The auditor kept a checkpoint
exported when the ledger had 40 entries.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import Checkpoint, Signer
from tests.integration.ledgerkit import fill, rehash_from, run, verify

pytestmark = pytest.mark.anyio
SIZE = 40


@pytest.fixture
async def kept(graph: Graph, ledger: Ledger) -> Checkpoint:
    await fill(graph, ledger, SIZE)
    checkpoint = await graph.read(ledger.checkpoint)
    assert checkpoint is not None
    assert checkpoint.size == SIZE
    report = await verify(graph, ledger.signer, checkpoint)
    assert report.ok, report.problems
    return checkpoint


async def test_edited_payload(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    await run(graph, "MATCH (e:LedgerEntry {seq: 17}) SET e.payload = '{\"n\":999}'")
    report = await verify(graph, ledger.signer, kept)
    assert not report.ok
    assert report.first_bad == 17
    assert "content does not match" in report.problems[0]


async def test_unreadable_entry(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    await run(graph, "MATCH (e:LedgerEntry {seq: 5}) SET e.payload = 'not json'")
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 5
    assert "unreadable" in report.problems[0]


async def test_forged_head_state(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    """A forged frontier on the head would make every later append build on a false tree."""
    await run(graph, "MATCH (h:LedgerHead) SET h.frontier = [h.root] + h.frontier[1..]")
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == SIZE
    assert "head's tree state" in report.problems[0]


async def test_deleted_entry(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    await run(graph, "MATCH (e:LedgerEntry {seq: 23}) DETACH DELETE e")
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 23
    assert "missing" in report.problems[0]


async def test_swapped_entries(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    await run(
        graph,
        "MATCH (a:LedgerEntry {seq: 10}), (b:LedgerEntry {seq: 20}) "
        "SET a.seq = -1 WITH a, b SET b.seq = 10 WITH a SET a.seq = 20",
    )
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 10


async def test_truncated_tail_needs_the_kept_checkpoint(
    graph: Graph, ledger: Ledger, kept: Checkpoint
) -> None:
    """Cutting the tail and pointing the head at the new last entry leaves a self-consistent
    log: only a checkpoint kept outside the database shows it (which is why they are exported)."""
    await run(graph, "MATCH (e:LedgerEntry) WHERE e.seq >= 30 DETACH DELETE e")
    await run(
        graph,
        "MATCH (e:LedgerEntry {seq: 29}), (h:LedgerHead) "
        "SET h.size = 30, h.root = e.root, h.time = e.time, h.signature = e.signature",
    )
    await rehash_from(graph, 30)  # rebuilds the head's frontier for 30 entries
    assert (await verify(graph, ledger.signer)).ok
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 30
    assert "covers 40" in report.problems[0]


async def test_rewrite_with_recomputed_hashes(
    graph: Graph, ledger: Ledger, kept: Checkpoint
) -> None:
    await run(graph, "MATCH (e:LedgerEntry {seq: 12}) SET e.payload = '{\"n\":-12}'")
    await rehash_from(graph, 12)
    for checkpoint in (kept, None):
        report = await verify(graph, ledger.signer, checkpoint)
        assert report.first_bad == 12, report.problems
        assert "rewritten" in report.problems[-1]
        # Located by binary search: a handful of signature checks, not one per entry.
        assert report.signatures_checked <= 2 + SIZE.bit_length() + 1


async def test_rewrite_after_the_checkpoint_is_also_found(
    graph: Graph, ledger: Ledger, kept: Checkpoint
) -> None:
    await fill(graph, ledger, 5)
    await run(graph, "MATCH (e:LedgerEntry {seq: 42}) SET e.type = 'forged'")
    await rehash_from(graph, 42)
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 42


async def test_edited_stored_hashes(graph: Graph, ledger: Ledger, kept: Checkpoint) -> None:
    await run(graph, "MATCH (e:LedgerEntry {seq: 15}) SET e.subtrees = ['00']")
    report = await verify(graph, ledger.signer, kept)
    assert report.first_bad == 15


async def test_checkpoint_from_another_key_is_rejected(
    graph: Graph, ledger: Ledger, kept: Checkpoint
) -> None:
    forger = Signer(Ed25519PrivateKey.generate(), ledger.signer.origin)
    forged = forger.sign(kept.size, kept.root, kept.time)
    report = await verify(graph, ledger.signer, forged)
    assert not report.ok
    assert "not signed by the ledger key" in report.problems[0]
