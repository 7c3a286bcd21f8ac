"""deploy/grafana/itilflow.json: valid, and in step with the metrics the code defines (every itilflow
metric it charts exists, and every one the code defines is charted)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

import api.services.metrics as api_metrics
import core.metrics as core_metrics
import workflows.metrics as workflow_metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "itilflow.json"


def _defined() -> set[str]:
    """The series names the code exposes (counters with _total, histograms with _bucket)."""
    names = set()
    for module in (core_metrics, api_metrics):
        for obj in vars(module).values():
            if isinstance(obj, Counter):
                names.add(f"{obj._name}_total")
            elif isinstance(obj, Histogram):
                names.add(f"{obj._name}_bucket")
            elif isinstance(obj, Gauge):
                names.add(obj._name)
    names.add(f"{workflow_metrics.SLA_THRESHOLDS}_total")  # a counter on the workflow meter
    names.add(f"{workflow_metrics.TIMER_LAG}_bucket")  # a histogram on the workflow meter
    return names


def _charted() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs and all(
        p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"] if "targets" in p
    )
    return {m for e in exprs for m in re.findall(r"\b(itilflow_[a-z_]+)\{", e)}


def test_the_dashboard_charts_exactly_the_metrics_the_code_defines() -> None:
    assert _charted() == _defined()


def test_workflow_metric_names_match_the_shared_constants() -> None:
    assert workflow_metrics.SLA_THRESHOLDS == core_metrics.SLA_THRESHOLDS
    assert workflow_metrics.TIMER_LAG == core_metrics.TIMER_LAG


def test_panels_do_not_overlap() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, panel["title"]
        cells |= mine
