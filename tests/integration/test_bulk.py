"""``Bulk``: a list parameter that reaches Neo4j as a list but not the driver's debug log."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from kgservice.graph.database import Bulk, Graph, Runner

pytestmark = pytest.mark.anyio


async def _echo(tx: Runner, rows: list[dict[str, Any]]) -> Any:
    record = await (await tx.run("RETURN $rows AS rows", rows=rows)).single()
    assert record is not None
    return record["rows"]


async def test_bulk_arrives_as_its_list_and_is_a_count_in_the_log(
    graph: Graph, caplog: pytest.LogCaptureFixture
) -> None:
    field = {"kind": "FastingGlucose", "value": "7.1"}
    rows = [
        {
            "id": f"rec_{i}",
            "value_enc": f"aesgcm1:secret-{i}",
            "level": 4,
            "code": None,
            "fields": [field],
        }
        for i in range(300)
    ]
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        echoed = await graph.read_autocommit(_echo, Bulk(rows))
    assert echoed == rows
    assert "<300 items>" in caplog.text  # the driver did log the statement, with a count
    assert "secret" not in caplog.text
    # A plain list is rendered whole: what Bulk is for.
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        await graph.read_autocommit(_echo, rows)
    assert "secret-299" in caplog.text
