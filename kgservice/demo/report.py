"""The scenario's report: Markdown with two PNG charts drawn by matplotlib.

``payouts.png``: each institution's share of the points (divided by Shapley values) beside its
share of the records, the seed's point that value, not volume, is paid. ``rounds.png``: the
global model's accuracy and ROC AUC per federated round.

Every figure of the training is measured on the requester's held-out validation rows
(``kgservice.training.features.split``): the per-round accuracy (threshold 0.5) and ROC AUC,
and the coalition utilities v(S), which are the job's metric × 100 (by default ROC AUC for
complication risk, accuracy for glycaemic control; ``kgservice.training.service.start``). The
charts and tables name the metric and the rows it was measured on.

matplotlib is imported when a chart is drawn, not when this module is: only ``shield demo``
draws, and the service runs without a plotting stack. The charts use the Agg backend (no
display) and matplotlib's own font, so every label is in English.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from kgservice.demo.scenario import INSTITUTIONS, Outcome
from kgservice.training.schemas import TrainingJobOut

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SIZE = (900, 520)  # pixels
DPI = 100
COLOURS = ("#2563eb", "#ea580c")
METRICS = {"auc": "ROC AUC × 100", "accuracy": "accuracy at threshold 0.5, %"}


def metric_label(metric: str) -> str:
    """What v(S) is for a job's metric, with its unit."""
    return METRICS.get(metric, metric)


def validation_label(job: TrainingJobOut, held_out: float | None) -> str:
    """The rows every training figure is measured on. The split is by a salted hash of each
    row, so the share held out is near the one asked for, not exactly it."""
    rows = (job.examples or {}).get(job.requester)
    of = "its rows" if rows is None else f"its {rows} rows"
    share = "" if held_out is None else f" (about {held_out:.0%} of {of})"
    return f"{job.requester}'s held-out validation rows{share}"


def shares(counts: dict[str, int]) -> dict[str, float]:
    """Each key's share of the total, in %; all zero when the total is."""
    total = sum(counts.values())
    return {k: 100 * v / total if total else 0.0 for k, v in counts.items()}


def _figure(title: str, subtitle: str) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # Wrapped to stay inside the image, the legend's column included.
    axes.set_title(f"{title}\n{textwrap.fill(subtitle, 90)}", loc="left", fontsize=11)
    axes.grid(axis="y", color="#dddddd")
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _legend(axes: Axes) -> None:
    # Beside the plot, never over a bar or a line: constrained layout makes room on the right.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def payouts_figure(outcome: Outcome) -> Figure:
    """Per institution, its share of the settled points beside its share of the records."""
    points = outcome.settlement.points if outcome.settlement else {}
    series = (
        ("points", shares({i: points.get(i, 0) for i in INSTITUTIONS})),
        ("records submitted", shares({i: outcome.records.get(i, 0) for i in INSTITUTIONS})),
    )
    job = outcome.job
    basis = (
        f"points divided by Shapley values of v(S) = {metric_label(job.metric)} "
        f"on {validation_label(job, outcome.held_out)}"
        if job is not None
        else "points divided by Shapley values"
    )
    figure, axes = _figure("Share of the points against share of the records", basis)
    width = 0.38
    for k, (name, values) in enumerate(series):
        x = [n + (k - 0.5) * width for n in range(len(INSTITUTIONS))]
        heights = [values[i] for i in INSTITUTIONS]
        bars = axes.bar(x, heights, width, label=name, color=COLOURS[k])
        axes.bar_label(bars, labels=[f"{v:.0f} %" for v in heights], padding=3, fontsize=9)
    axes.set_xticks(range(len(INSTITUTIONS)), INSTITUTIONS)
    axes.set_ylabel("share of the alliance's total, %")
    top = max((v for _, values in series for v in values.values()), default=0.0)
    axes.set_ylim(0, max(top * 1.15, 10.0))
    _legend(axes)
    return figure


def rounds_figure(outcome: Outcome) -> Figure:
    """The global model's accuracy and ROC AUC on the validation rows after each round."""
    job = outcome.job
    history = job.history if job else []
    where = validation_label(job, outcome.held_out) if job else "validation rows"
    figure, axes = _figure("Global model after each federated round", f"measured on {where}")
    rounds = [h.round for h in history]
    axes.plot(
        rounds,
        [h.accuracy / 100 for h in history],
        marker="o",
        color=COLOURS[0],
        label="accuracy\n(share correct at 0.5)",
    )
    scored = [(h.round, h.auc) for h in history if h.auc is not None]
    axes.plot(
        [r for r, _ in scored],
        [auc for _, auc in scored],
        marker="s",
        color=COLOURS[1],
        label="ROC AUC",
    )
    axes.axhline(0.5, color="#888888", linestyle="--", linewidth=1, label="AUC of chance")
    axes.set_xticks(rounds, [f"round {r}" for r in rounds])
    if rounds:
        axes.set_xlim(rounds[0] - 0.5, rounds[-1] + 0.5)
    # Headroom above 1: a perfect AUC is drawn whole, below the title.
    axes.set_ylim(0, 1.05)
    axes.set_yticks([k / 5 for k in range(6)])
    axes.set_ylabel("on the validation rows (0 to 1)")
    _legend(axes)
    return figure


def write(outcome: Outcome, directory: Path) -> Path:
    """``report.md`` with its two charts into ``directory``; the Markdown's path."""
    directory.mkdir(parents=True, exist_ok=True)
    payouts_figure(outcome).savefig(directory / "payouts.png", dpi=DPI, format="png")
    rounds_figure(outcome).savefig(directory / "rounds.png", dpi=DPI, format="png")
    path = directory / "report.md"
    path.write_text(markdown(outcome), encoding="utf-8")
    return path


def markdown(o: Outcome) -> str:
    lines = ["# Health Shield — diabetes alliance scenario", ""]
    if o.interception is not None:
        d = o.interception
        lines += [
            "## Red line",
            "",
            f"Clinic B's export of phone numbers and addresses: **{d.verdict.value}** "
            f"(decision `{d.id}`, ledger entry {d.ledger.seq}).",
            "",
        ]
        lines += [f"- `{r.rule}` ({r.article}): {r.message_en} / {r.message_zh}" for r in d.reasons]
        lines.append("")
    if o.job is not None:
        j = o.job
        metric = metric_label(j.metric)
        where = validation_label(j, o.held_out)
        lines += [
            "## Federated training",
            "",
            f"Job `{j.id}`: {', '.join(j.institutions)}; {len(j.history)} rounds on Flower "
            f"(one SuperNode process per institution); valuation by **{j.valuation}**; "
            f"model `{j.product}` (operation right granted to the alliance).",
            "",
            f"The global model after each round, on {where}:",
            "",
            "| round | accuracy at threshold 0.5, % | ROC AUC | ledger entry |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {h.round} | {h.accuracy:.1f} | "
            f"{'-' if h.auc is None else f'{h.auc:.3f}'} | {h.ledger_seq} |"
            for h in j.history
        ]
        lines += ["", "![model per round](rounds.png)", ""]
        lines += [
            f"Coalition utilities v(S): {metric} of the model each coalition trained, on "
            f"{where}; v(∅) is the untrained initial model's.",
            "",
            f"| coalition | v(S), {metric} |",
            "|---|---|",
        ]
        by_size = sorted((j.utilities or {}).items(), key=lambda kv: (kv[0].count(","), kv[0]))
        lines += [f"| {k or '(none)'} | {v:.2f} |" for k, v in by_size]
        lines.append("")
    if o.settlement is not None:
        s = o.settlement
        unit = metric_label(o.job.metric) if o.job is not None else "v(S)"
        lines += [
            "## Settlement",
            "",
            f"Settlement `{s.id}`: Shapley values ({s.method}, {s.valuation}) into "
            f"{s.pool} points; {s.remainder_rule}.",
            "",
            f"| institution | records | Shapley value ({unit}) | points | upload points | "
            "balance |",
            "|---|---|---|---|---|---|",
        ]
        for i in INSTITUTIONS:
            b = o.balances.get(i)
            value = f"{float(Fraction(s.shapley[i])):.2f}" if i in s.shapley else "-"
            lines.append(
                f"| {i} | {o.records.get(i, 0)} | {value} | "
                f"{s.points.get(i, 0)} | {o.uploads.get(i, 0)} | "
                f"{b.balance if b else '-'} |"
            )
        lines += ["", "![points against records](payouts.png)", ""]
    if o.redemption is not None:
        r = o.redemption
        lines += [
            "## Redemption",
            "",
            f"{r.institution} redeemed {r.quantity} × `{r.item}` for {r.points} points "
            f"(ledger entry {r.ledger.seq}); balance {r.balance}.",
            "",
        ]
    elif o.redemption_refused:
        lines += ["## Redemption", "", f"Refused: {o.redemption_refused}", ""]
    if o.ledger is not None:
        v = o.ledger
        state = "verified" if v.ok else f"FAILED at entry {v.first_bad}"
        lines += [
            "## Ledger",
            "",
            f"{v.size} entries {state}; root `{v.root.hex()}`; "
            f"{v.signatures_checked} signatures checked.",
            "",
        ]
    return "\n".join(lines) + "\n"
