"""The scenario report (kgservice/demo/report.py): real PNG charts, nothing drawn over anything, and
every table and chart naming the metric the training computed and the rows it was measured on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from kgservice.demo import report
from kgservice.demo.scenario import INSTITUTIONS, Outcome
from kgservice.settlements.schemas import SettlementOut
from kgservice.training.schemas import RoundOut, TrainingJobOut


def outcome(metric: str = "auc") -> Outcome:
    job = TrainingJobOut(
        id="job_0123456789abcdef",
        status="completed",
        task="complication_risk" if metric == "auc" else "poor_glycaemic_control",
        features=["HbA1c", "FastingGlucose"],
        metric=metric,
        institutions=INSTITUTIONS,
        requester="hosp-a",
        rounds=3,
        valuation="retraining",
        decisions=["dec_1", "dec_2", "dec_3"],
        created="2026-12-01T00:00:00Z",
        by="prn_operator",
        history=[
            RoundOut(round=1, participants=INSTITUTIONS, accuracy=71.4, auc=0.62, ledger_seq=40),
            RoundOut(round=2, participants=INSTITUTIONS, accuracy=78.6, auc=0.74, ledger_seq=41),
            RoundOut(round=3, participants=INSTITUTIONS, accuracy=80.0, auc=0.77, ledger_seq=42),
        ],
        utilities={
            "": 50.0,
            "hosp-a": 70.5,
            "clinic-b": 61.25,
            "clinic-c": 58.0,
            "clinic-b,hosp-a": 74.0,
            "clinic-c,hosp-a": 72.0,
            "clinic-b,clinic-c": 63.5,
            "clinic-b,clinic-c,hosp-a": 77.0,
        },
        examples={"hosp-a": 57, "clinic-b": 60, "clinic-c": 21},
        product="model:job_0123456789abcdef",
    )
    settlement = SettlementOut(
        id="stl_1",
        job=job.id,
        valuation="retraining",
        method="exact",
        pool=1000,
        shapley={"hosp-a": "15.5", "clinic-b": "6.5", "clinic-c": "5.0"},
        points={"hosp-a": 574, "clinic-b": 241, "clinic-c": 185},
        remainder_rule="largest remainder",
        created="2026-12-01T00:00:00Z",
        by="prn_operator",
    )
    records = {"hosp-a": 40, "clinic-b": 120, "clinic-c": 25}
    return Outcome(job=job, held_out=0.3, settlement=settlement, records=records)


def test_the_charts_are_pngs_of_the_reports_size_with_both_series_drawn(tmp_path: Path) -> None:
    path = report.write(outcome(), tmp_path)
    assert path == tmp_path / "report.md"
    for name in ("payouts.png", "rounds.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG"
            assert image.size == report.SIZE
            colours = {rgb for _, rgb in image.convert("RGB").getcolors(1 << 20) or []}
        # Both series in their colours, and a white background.
        for hex_colour in report.COLOURS:
            rgb = tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
            assert rgb in colours, (name, hex_colour)
        assert (255, 255, 255) in colours
        assert len(colours) > 50  # text is antialiased: a chart, not a blank image


def _texts(figure: Figure) -> list[Text]:
    return [
        t
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is figure
    ]


@pytest.mark.parametrize("draw", [report.payouts_figure, report.rounds_figure])
def test_no_label_overlaps_another_or_the_plot_and_none_is_cut(
    draw: Callable[[Outcome], Figure],
) -> None:
    figure = draw(outcome())
    assert isinstance(figure.canvas, FigureCanvasAgg)  # drawn off-screen, no GUI backend
    figure.draw_without_rendering()  # lays it out as saving does
    whole = figure.bbox
    texts = _texts(figure)
    boxes = [t.get_window_extent() for t in texts]
    for text, box in zip(texts, boxes, strict=True):
        assert whole.contains(box.x0, box.y0), text
        assert whole.contains(box.x1, box.y1), text
    for (a, box_a), (b, box_b) in combinations(zip(texts, boxes, strict=True), 2):
        assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())
    (axes,) = figure.axes
    legend = axes.get_legend()
    assert legend is not None
    plot: Bbox = axes.get_window_extent()
    assert not legend.get_window_extent().overlaps(plot)


def test_the_tables_and_charts_name_the_metric_and_the_validation_rows() -> None:
    text = report.markdown(outcome("auc"))
    assert "| coalition | v(S), ROC AUC × 100 |" in text
    assert "| round | accuracy at threshold 0.5, % | ROC AUC | ledger entry |" in text
    assert "Shapley value (ROC AUC × 100)" in text
    assert "hosp-a's held-out validation rows (about 30% of its 57 rows)" in text
    assert "validation accuracy" not in text
    assert "| clinic-b,clinic-c,hosp-a | 77.00 |" in text
    accuracy = report.markdown(outcome("accuracy"))
    assert "| coalition | v(S), accuracy at threshold 0.5, % |" in accuracy
    assert "ROC AUC × 100" not in accuracy
    titles = {
        draw: " ".join(draw(outcome()).axes[0].get_title(loc="left").split())  # unwrapped
        for draw in (report.payouts_figure, report.rounds_figure)
    }
    for title in titles.values():
        assert "hosp-a's held-out validation rows (about 30% of its 57 rows)" in title
    assert "Shapley values of v(S) = ROC AUC × 100" in titles[report.payouts_figure]


def test_the_validation_rows_are_named_without_a_count_or_a_share_when_unknown() -> None:
    job = outcome().job
    assert job is not None
    unknown = job.model_copy(update={"examples": None})
    assert report.validation_label(unknown, 0.3) == (
        "hosp-a's held-out validation rows (about 30% of its rows)"
    )
    assert report.validation_label(unknown, None) == "hosp-a's held-out validation rows"


def test_a_perfect_auc_is_drawn_below_the_top_of_the_plot() -> None:
    (axes,) = report.rounds_figure(outcome()).axes
    assert axes.get_ylim()[1] > 1.0


def test_shares_are_percent_of_the_total_and_zero_without_one() -> None:
    assert report.shares({"a": 1, "b": 3}) == {"a": 25.0, "b": 75.0}
    assert report.shares({"a": 0, "b": 0}) == {"a": 0.0, "b": 0.0}


def test_importing_the_report_or_the_app_does_not_import_matplotlib() -> None:
    code = (
        "import sys, kgservice.demo.report, kgservice.app\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)  # noqa: S603
