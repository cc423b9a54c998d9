"""All Cypher of training jobs and data products."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Runner

CREATE_JOB = """
CREATE (j:TrainingJob {id: $id, status: 'running', task: $task, features: $features,
                       metric: $metric,
                       institutions: $institutions,
                       requester: $requester, rounds: $rounds, valuation: $valuation,
                       decisions: $decisions, created: $created, by: $by,
                       heartbeat: $created})
"""
# The process running a job touches it periodically; a running job whose heartbeat stopped was
# orphaned by a process that died without stopping it.
HEARTBEAT = "MATCH (j:TrainingJob {id: $id, status: 'running'}) SET j.heartbeat = $time"
ORPHANED = """
MATCH (j:TrainingJob {status: 'running'}) WHERE j.heartbeat < $before
RETURN j.id AS id ORDER BY id
"""
FINISH_JOB = """
MATCH (j:TrainingJob {id: $id}) WHERE j.status = 'running'
SET j += $changes
RETURN j.id AS id
"""
GET_JOB = "MATCH (j:TrainingJob {id: $id}) RETURN j {.*} AS job"
CREATE_PRODUCT = """
CREATE (p:DataProduct {id: $id, kind: 'model', job: $job, task: $task, features: $features,
                       weights: $weights, accuracy: $accuracy, digest: $digest,
                       created: $created})
WITH p
MATCH (j:TrainingJob {id: $job})
CREATE (j)-[:PRODUCED]->(p)
"""


async def create_job(tx: AsyncManagedTransaction, **row: Any) -> None:
    await tx.run(CREATE_JOB, **row)


async def finish_job(tx: AsyncManagedTransaction, job_id: str, changes: dict[str, Any]) -> bool:
    record = await (await tx.run(FINISH_JOB, id=job_id, changes=changes)).single()
    return record is not None


async def get_job(tx: Runner, job_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET_JOB, id=job_id)).single()
    return None if record is None else dict(record["job"])


async def create_product(tx: AsyncManagedTransaction, **row: Any) -> None:
    await tx.run(CREATE_PRODUCT, **row)


async def heartbeat(tx: AsyncManagedTransaction, job_id: str, time: str) -> None:
    await tx.run(HEARTBEAT, id=job_id, time=time)


async def orphaned(tx: Runner, before: str) -> list[str]:
    return [r["id"] async for r in await tx.run(ORPHANED, before=before)]
