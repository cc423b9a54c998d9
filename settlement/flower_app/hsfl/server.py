"""The ServerApp: FedAvg over the institutions' SuperNodes, one model per coalition.

With ``mode = "retraining"`` every non-empty coalition of players is trained in the same rounds
(each node trains, in one message per round, the models of every coalition it belongs to), so
coalition utilities v(S) come from real federated retraining at the cost of one job. With
``mode = "reconstruction"`` only the grand coalition is trained and v(S) comes from models rebuilt
from the recorded per-round updates of S's members (GTG-Shapley style) — for larger alliances.
v(S) is the job's metric (accuracy or AUC, × 100) on the requester's held-out validation set; v(∅)
that of the initial model. Per-institution updates reach this coordinator in the clear: it is the
trusted party for valuation (secure aggregation would hide exactly what valuation needs).

Everything the service needs is written to ``out`` as JSON when the job ends.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp

from hsfl import model

app = ServerApp()
CONNECT_TIMEOUT_S = 120.0


def _num(value: object) -> float:
    """A number from a config or metric record (typed as a union of every record value)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def _nodes(grid: Grid, expected: int) -> list[int]:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= expected or time.monotonic() > deadline:
            return nodes
        time.sleep(1.0)


def _who(
    grid: Grid, nodes: list[int], received: list[dict[str, Any]]
) -> dict[int, tuple[str, int]]:
    asks = [
        Message(RecordDict({"config": ConfigRecord({})}), dst_node_id=n, message_type="query")
        for n in nodes
    ]
    out = {}
    for reply in grid.send_and_receive(asks):
        if reply.has_content():
            received.append(audit(reply))
            about = reply.content["about"]
            out[reply.metadata.src_node_id] = (
                str(about["institution"]),
                int(_num(about["examples"])),
            )
    return out


def coalitions(players: list[str], mode: str) -> list[tuple[str, ...]]:
    if mode == "retraining":
        return [c for k in range(1, len(players) + 1) for c in itertools.combinations(players, k)]
    return [tuple(players)]


def audit(reply: Message) -> dict[str, Any]:
    """What a node sent, without the values: record names, types, array shapes, metric and
    config keys. The tests check from this that only model-sized arrays and counts ever arrive."""
    content = reply.content
    return {
        "from": reply.metadata.src_node_id,
        "arrays": {
            name: [list(a.shape) for a in record.values()]
            for name, record in content.array_records.items()
        },
        "metrics": {name: sorted(record) for name, record in content.metric_records.items()},
        "configs": {name: sorted(record) for name, record in content.config_records.items()},
    }


def _round(
    grid: Grid,
    r: int,
    who: dict[int, tuple[str, int]],
    models: dict[str, Any],
    members: dict[str, tuple[str, ...]],
    epochs: int,
    lr: float,
) -> list[Message]:
    messages = []
    for node, (institution, _) in who.items():
        content = RecordDict({"config": ConfigRecord({"epochs": epochs, "lr": lr})})
        for key, group in members.items():
            if institution in group:
                content[key] = ArrayRecord([models[key]])
        messages.append(Message(content, dst_node_id=node, message_type="train", group_id=str(r)))
    return [m for m in grid.send_and_receive(messages) if m.has_content()]


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = context.run_config
    players = [p for p in str(cfg["players"]).split(",") if p]
    rounds, epochs, lr = int(_num(cfg["rounds"])), int(_num(cfg["epochs"])), _num(cfg["lr"])
    mode = str(cfg["mode"])
    with np.load(str(cfg["validation"])) as v:
        vx, vy = np.asarray(v["x"], dtype=np.float64), np.asarray(v["y"], dtype=np.float64)
    received: list[dict[str, Any]] = []
    who = _who(grid, _nodes(grid, int(_num(cfg["nodes"]))), received)
    seen = sorted(i for i, _ in who.values())
    if seen != sorted(players):
        _write(cfg, {"error": f"nodes present: {seen}; players: {sorted(players)}"})
        return
    members = {f"c{i}": group for i, group in enumerate(coalitions(players, mode))}
    grand = next(k for k, g in members.items() if len(g) == len(players))
    start = model.initial(vx.shape[1])
    models = dict.fromkeys(members, start)
    history: list[dict[str, Any]] = []
    for r in range(1, rounds + 1):
        replies = _round(grid, r, who, models, members, epochs, lr)
        received += [audit(m) for m in replies]
        by_institution = {who[m.metadata.src_node_id][0]: m for m in replies}
        updates: list[dict[str, Any]] = []
        for key, group in members.items():
            trained = [
                (
                    by_institution[i].content.array_records[key].to_numpy_ndarrays()[0],
                    _num(by_institution[i].content["metrics"]["examples"]),
                )
                for i in group
                if i in by_institution
            ]
            before = models[key]
            if trained:
                models[key] = model.average([w for w, _ in trained], [n for _, n in trained])
            if key == grand:
                for i in group:
                    if i in by_institution:
                        w = by_institution[i].content.array_records[key].to_numpy_ndarrays()[0]
                        n = int(_num(by_institution[i].content["metrics"]["examples"]))
                        updates.append(
                            {
                                "institution": i,
                                "digest": model.digest(w),
                                "examples": n,
                                "delta": (w - before).tolist(),
                            }
                        )
        history.append(
            {
                "round": r,
                "participants": sorted(by_institution),
                "updates": updates,
                "global_digest": model.digest(models[grand]),
                "accuracy": 100 * model.accuracy(models[grand], vx, vy),
                "auc": model.auc(models[grand], vx, vy),
            }
        )
    metric = str(cfg["metric"])
    utilities = {"": utility(metric, start, vx, vy)}
    if mode == "retraining":
        for key, group in members.items():
            utilities[model.coalition_key(group)] = utility(metric, models[key], vx, vy)
    else:
        utilities.update(reconstruct(players, start, history, vx, vy, metric))
    _write(
        cfg,
        {
            "players": players,
            "mode": mode,
            "rounds": history,
            "utilities": utilities,
            "model": models[grand].tolist(),
            "validation_examples": len(vy),
            "received": received,
        },
    )


def utility(metric: str, w: model.Vector, vx: model.Vector, vy: model.Vector) -> float:
    """v(S) × 100: validation accuracy, or AUC (0.5, chance, when one class is missing)."""
    if metric == "auc":
        auc = model.auc(w, vx, vy)
        return 100 * (0.5 if auc is None else auc)
    return 100 * model.accuracy(w, vx, vy)


def reconstruct(
    players: list[str],
    start: model.Vector,
    history: list[dict[str, Any]],
    vx: model.Vector,
    vy: model.Vector,
    metric: str,
) -> dict[str, float]:
    """v(S) for every coalition from the grand coalition's recorded per-round updates: S's model
    is replayed round by round with the example-weighted mean of its members' updates."""
    out = {}
    for k in range(1, len(players) + 1):
        for group in itertools.combinations(players, k):
            w = start.copy()
            for r in history:
                mine = [u for u in r["updates"] if u["institution"] in group]
                if mine:
                    w = w + model.average(
                        [np.asarray(u["delta"]) for u in mine], [u["examples"] for u in mine]
                    )
            out[model.coalition_key(group)] = utility(metric, w, vx, vy)
    return out


def _write(cfg: Any, result: dict[str, Any]) -> None:
    path = Path(str(cfg["out"]))
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(path)  # the service waits for this file: it must appear whole
