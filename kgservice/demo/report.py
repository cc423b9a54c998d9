"""The scenario's report: Markdown with two PNG charts drawn with Pillow (no plotting stack).

``payouts.png``: points per institution beside its share of the records — the seed's point that
value, not volume, is paid. ``rounds.png``: the global model's validation accuracy and AUC per
federated round.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kgservice.demo.scenario import INSTITUTIONS, Outcome

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SIZE = (900, 520)
MARGIN = 70
COLOURS = ((37, 99, 235), (234, 88, 12), (22, 163, 74))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(FONT), size) if FONT.exists() else ImageFont.load_default()


def _axes(draw: ImageDraw.ImageDraw, title: str) -> tuple[int, int, int, int]:
    left, top, right, bottom = MARGIN, MARGIN, SIZE[0] - 30, SIZE[1] - MARGIN
    draw.text((left, 20), title, font=_font(22), fill="black")
    draw.line((left, top, left, bottom), fill="black", width=2)
    draw.line((left, bottom, right, bottom), fill="black", width=2)
    for k in range(0, 101, 25):  # percent gridlines
        y = bottom - (bottom - top) * k / 100
        draw.line((left - 5, y, right, y), fill=(220, 220, 220))
        draw.text((left - 45, y - 8), f"{k}%", font=_font(14), fill="black")
    return left, top, right, bottom


def payouts_chart(outcome: Outcome, path: Path) -> None:
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = _axes(draw, "Share of points (Shapley) vs share of records")
    points = outcome.settlement.points if outcome.settlement else {}
    total_points = sum(points.values()) or 1
    total_records = sum(outcome.records.get(i, 0) for i in INSTITUTIONS) or 1
    slot = (right - left) / len(INSTITUTIONS)
    for n, institution in enumerate(INSTITUTIONS):
        shares = (
            points.get(institution, 0) / total_points,
            outcome.records.get(institution, 0) / total_records,
        )
        for k, share in enumerate(shares):
            x0 = left + slot * n + 20 + k * (slot - 40) / 2
            x1 = x0 + (slot - 40) / 2 - 8
            y0 = bottom - (bottom - top) * share
            draw.rectangle((x0, y0, x1, bottom), fill=COLOURS[k])
            draw.text((x0, y0 - 20), f"{100 * share:.0f}%", font=_font(14), fill="black")
        draw.text(
            (left + slot * n + slot / 2 - 30, bottom + 10),
            institution,
            font=_font(16),
            fill="black",
        )
    draw.rectangle((right - 220, top, right - 205, top + 15), fill=COLOURS[0])
    draw.text((right - 200, top - 2), "points (Shapley)", font=_font(14), fill="black")
    draw.rectangle((right - 220, top + 22, right - 205, top + 37), fill=COLOURS[1])
    draw.text((right - 200, top + 20), "records submitted", font=_font(14), fill="black")
    image.save(path)


def rounds_chart(outcome: Outcome, path: Path) -> None:
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = _axes(draw, "Global model per federated round (validation set)")
    history = outcome.job.history if outcome.job else []
    series = (
        ("accuracy", [h.accuracy / 100 for h in history]),
        ("AUC", [h.auc if h.auc is not None else 0.0 for h in history]),
    )
    n = max(len(history), 1)
    for k, (name, values) in enumerate(series):
        xy = [
            (left + (right - left) * (i + 0.5) / n, bottom - (bottom - top) * v)
            for i, v in enumerate(values)
        ]
        if len(xy) > 1:
            draw.line(xy, fill=COLOURS[k], width=3)
        for x, y in xy:
            draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=COLOURS[k])
        draw.text((right - 150, top + 20 * k), name, font=_font(14), fill=COLOURS[k])
    for i, h in enumerate(history):
        draw.text(
            (left + (right - left) * (i + 0.5) / n - 25, bottom + 10),
            f"round {h.round}",
            font=_font(14),
            fill="black",
        )
    image.save(path)


def write(outcome: Outcome, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    payouts_chart(outcome, directory / "payouts.png")
    rounds_chart(outcome, directory / "rounds.png")
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
        lines += [
            "## Federated training",
            "",
            f"Job `{j.id}`: {', '.join(j.institutions)}; {len(j.history)} rounds on Flower "
            f"(one SuperNode process per institution); valuation by **{j.valuation}**; "
            f"model `{j.product}` (operation right granted to the alliance).",
            "",
            "| round | accuracy | AUC | ledger entry |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {h.round} | {h.accuracy:.1f} % | "
            f"{'-' if h.auc is None else f'{h.auc:.3f}'} | {h.ledger_seq} |"
            for h in j.history
        ]
        lines += ["", "![model per round](rounds.png)", ""]
        lines += [
            "Coalition utilities v(S) (validation accuracy, %):",
            "",
            "| coalition | v(S) |",
            "|---|---|",
        ]
        by_size = sorted((j.utilities or {}).items(), key=lambda kv: (kv[0].count(","), kv[0]))
        lines += [f"| {k or '(none)'} | {v:.2f} |" for k, v in by_size]
        lines.append("")
    if o.settlement is not None:
        s = o.settlement
        lines += [
            "## Settlement",
            "",
            f"Settlement `{s.id}`: Shapley values ({s.method}, {s.valuation}) into "
            f"{s.pool} points; {s.remainder_rule}.",
            "",
            "| institution | records | Shapley value | points | upload points | balance |",
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
