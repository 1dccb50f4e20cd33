"""Running stages under the audit hook of tests/helpers/audit/sitecustomize.py, and
reading its log back: per stage, the files it opened to read and whether it imported
TensorFlow or Keras."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

AUDIT_DIR = Path(__file__).resolve().parent / "audit"
LOG_ENV = "LAYERWISE_AUDIT_LOG"


def audit_env(log: Path) -> dict[str, str]:
    """Environment additions that make every stage process append to `log`."""
    path = [str(AUDIT_DIR)]
    if os.environ.get("PYTHONPATH"):
        path.append(os.environ["PYTHONPATH"])
    return {"PYTHONPATH": os.pathsep.join(path), LOG_ENV: str(log)}


@dataclass
class StageAudit:
    processes: int = 0
    reads: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)


def read_audit(log: Path) -> dict[str, StageAudit]:
    """stage name -> what its processes opened to read and imported (all runs in `log`)."""
    stages: dict[str, StageAudit] = {}
    if not log.is_file():
        return stages
    for line in log.read_text().splitlines():
        stage, event, value = line.split("\t", 2)
        audit = stages.setdefault(stage, StageAudit())
        if event == "start":
            audit.processes += 1
        elif event == "open":
            audit.reads.add(value)
        elif event == "import":
            audit.imports.add(value)
    return stages
