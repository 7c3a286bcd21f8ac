"""`itilflow cmdb import|export|impact` as a configuration manager runs them, in a subprocess, on a
fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from core.db import make_engine, session_scope
from core.tables import RecordCiRow, RecordRow
from tests.paths import ROOT


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cli", "cmdb", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def test_import_dry_run_then_import_export_and_impact(tmp_path: Path) -> None:
    db = tmp_path / "cmdb.sqlite"
    bad = tmp_path / "bad.csv"
    bad.write_text("class,name,hostname,kind\nserver,web01,web01,\nnetwork_device,sw1,,router\n")
    out = run_cli(db, "import", str(bad))
    assert out.returncode == 1
    assert "bad.csv: line 3, column 3 (hostname):" in out.stderr and "nothing was written" in out.stdout

    data = {
        "cis": [
            {
                "class": "business_service",
                "name": "Mail",
                "attributes": {"owner": "ops", "criticality": "high"},
            },
            {"class": "application", "name": "Postfix", "attributes": {"environment": "production"}},
            {"class": "server", "name": "mx1", "attributes": {"hostname": "mx1"}},
        ],
        "relations": [
            {
                "type": "depends_on",
                "source": {"class": "business_service", "key": "Mail"},
                "target": {"class": "application", "key": "Postfix"},
            },
            {
                "type": "runs_on",
                "source": {"class": "application", "key": "Postfix"},
                "target": {"class": "server", "key": "mx1"},
            },
        ],
    }
    good = tmp_path / "cmdb.json"
    good.write_text(json.dumps(data))
    dry = run_cli(db, "import", str(good), "--dry-run")
    assert dry.returncode == 0 and "3 CIs created" in dry.stdout and "would be written" in dry.stdout
    assert run_cli(db, "import", str(good)).returncode == 0
    again = run_cli(db, "import", str(good))
    assert "0 CIs created, 0 updated, 3 unchanged; 0 relationships created, 2 existing" in again.stdout

    exported = json.loads(run_cli(db, "export").stdout)
    assert len(exported["cis"]) == 3 and len(exported["relations"]) == 2
    csv = run_cli(db, "export", "--format", "csv", "--class", "server").stdout
    assert csv.splitlines()[1].startswith("server,mx1,")

    server_id = 3  # ids are given in the import's order on a fresh database
    # An open incident naming the application (as the record's own write indexes it).
    engine = make_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            RecordRow(
                id="rec-1",
                number="INC0000042",
                definition_key="incident",
                definition_version=1,
                title="Mail bounces",
                state="in_progress",
                state_category="open",
                snapshot={"state_label": {"en": "In progress", "zh": "处理中"}},
                created_at=now,
                updated_at=now,
            )
        )
        session.add(RecordCiRow(record_id="rec-1", field="cis", ci_id=2))
    engine.dispose()
    impact = run_cli(db, "impact", str(server_id), "--direction", "downstream", "--depth", "2")
    assert impact.returncode == 0, impact.stderr
    assert "business services affected (受影响的业务服务): Mail (1)" in impact.stdout
    assert (
        "open record (未关闭工单) INC0000042  incident         In progress    on CI 2: Mail bounces"
        in impact.stdout
    )
