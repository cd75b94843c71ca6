"""Print the README's results table from the JSON files 'auralize reproduce' wrote.

    python scripts/results_table.py [docs/results]

Columns: each split (clip; filtered with all 10 genres; filtered with the 4 complete genres), with
the default level normalisation and with --input-norm none (docs/results/no-level-norm/).
Cells are test clip accuracy / track accuracy.
"""
import json
import sys
from pathlib import Path

from auralize.models import MODELS
from auralize.reproduce import fmt

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/results")
RUNS = [("clip", "clip split"), ("filtered", "filtered, 10 genres"), ("filtered-4genres", "filtered, 4 genres")]


def cell(path: Path, kind: str) -> str:
    if not path.exists():
        return "–"
    rows = json.loads(path.read_text())
    if kind not in rows:
        return "–"
    return f"{rows[kind]['clip_accuracy']:.3f} / {rows[kind]['track_accuracy']:.3f}"


header = ["model", "paper"] + [f"{title}, {norm}" for _, title in RUNS for norm in ("level", "none")]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for kind, entry in MODELS.items():
    cells = [cell(ROOT / f"{name}.json", kind) if norm == "level" else cell(ROOT / "no-level-norm" / f"{name}.json", kind)
             for name, _ in RUNS for norm in ("level", "none")]
    print(f"| {entry.label} | {fmt(entry.paper_accuracy)} | " + " | ".join(cells) + " |")
