"""The ClientApp each institution's SuperNode runs: it reads only its own institution's
de-identified feature file (``--node-config 'institution="..." data-path="..."'``) and returns
trained models, never data. Imports stay light (numpy): each message starts a fresh process."""

from __future__ import annotations

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from hsfl import model

app = ClientApp()


def _data(context: Context) -> tuple[model.Vector, model.Vector]:
    with np.load(str(context.node_config["data-path"])) as d:
        return np.asarray(d["x"], dtype=np.float64), np.asarray(d["y"], dtype=np.float64)


@app.query()
def query(msg: Message, context: Context) -> Message:
    """Who this node is and how many examples it holds (nothing else leaves)."""
    _, y = _data(context)
    about = ConfigRecord(
        {"institution": str(context.node_config["institution"]), "examples": len(y)}
    )
    return Message(RecordDict({"about": about}), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Train every coalition model this institution belongs to, from the coalition's current
    model, on local data; reply with the trained models and the example count."""
    x, y = _data(context)
    config = msg.content["config"]
    epochs, lr = config["epochs"], config["lr"]
    if not isinstance(epochs, int) or not isinstance(lr, float):
        raise TypeError("train config needs integer epochs and a float lr")
    out = RecordDict()
    losses: dict[str, float] = {}
    for key in list(msg.content.array_records):
        w = msg.content.array_records[key].to_numpy_ndarrays()[0]
        trained = model.train(np.asarray(w, dtype=np.float64), x, y, epochs, lr)
        out[key] = ArrayRecord([trained])
        losses[f"loss-{key}"] = model.log_loss(trained, x, y)
    out["metrics"] = MetricRecord({"examples": len(y), **losses})
    return Message(out, reply_to=msg)
