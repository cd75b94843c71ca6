"""How far the dream study's figures moved since an earlier version of its page (another machine, or models
trained again): each row's panel hits then and now.

    python scripts/compare_study.py c4ca0c3 [--page docs/results/dream-study.json]

Rows are grouped by whether their candidate dreams only through shipped models (``trained/``) or through
models the study trains for itself (``scripts/dream_study.py``'s ``MADE``, trained again with each run).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from dream_study import CANDIDATES, MADE, needed  # noqa: E402


def candidate_of(row: str) -> str | None:
    """The candidate a row of the page belongs to (its dreams, controls and conflict rows); None for references."""
    name = row.split(",")[0].split(" prior-only control")[0].split(" conflict (")[0]
    return name if name in CANDIDATES else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("commit", help="the git commit whose page to compare with")
    ap.add_argument("--page", default="docs/results/dream-study.json")
    args = ap.parse_args()
    then = json.loads(subprocess.run(["git", "show", f"{args.commit}:{args.page}"], cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout)
    now = json.loads((ROOT / args.page).read_text())
    before = {r["row"]: r["panel_hits"] for r in then["rows"]}
    groups = {"shipped models only": [], "models the study trains": []}
    for r in now["rows"]:
        name = candidate_of(r["row"])
        if name is None or r["row"] not in before:
            continue
        trained = bool(needed([name]) & set(MADE))
        groups["models the study trains" if trained else "shipped models only"].append(
            (name, r["row"], before[r["row"]], r["panel_hits"]))
    for group, rows in groups.items():
        moved = [(row, a, b) for _, row, a, b in rows if a != b]
        names = sorted({n for n, *_ in rows})
        print(f"{group}: {len(names)} candidates, {len(rows)} rows, {len(moved)} with other hits"
              + (f", by up to {max(abs(b - a) for _, a, b in moved)}" if moved else ""))
        for row, a, b in moved:
            print(f"  {row}: {a} -> {b}")


if __name__ == "__main__":
    main()
