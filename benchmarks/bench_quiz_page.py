"""How large the listening quiz's page is and how fast a browser opens it (issue 16).

    python benchmarks/bench_quiz_page.py --dreams DIR --data ../shared/gtzan4k [--busy]

``DIR`` is a folder made by ``auralize --genre all --control -o DIR``; the quiz asks about its ten
dreams, their ten controls and one real test clip per genre: 30 items (and 20 A/B pairs), in FLAC
and in Ogg Vorbis. Target: the page loads in under 2 s (the browser's own navigation timing, load
event) in headless Chromium, driven as in the browser test (``tests/browser.py``). Each page is
opened five times, alternating with a yardstick page of the same markup and no audio, in one
browser; the medians are printed. ``--busy`` keeps one core busy meanwhile.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the browser test's driver

from browser import Browser, chromium  # noqa: E402

from auralize import quiz  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dreams", type=Path, required=True, help="a folder of 'auralize --genre all --control -o DIR'")
    ap.add_argument("--data", type=Path, required=True, help="the data folder (one real test clip per genre)")
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    ap.add_argument("--loads", type=int, default=5)
    args = ap.parse_args()
    if chromium() is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    work = Path(tempfile.mkdtemp(prefix="auralize-quiz-bench-"))
    pages = {}
    for audio in quiz.AUDIO_FORMATS:
        made = quiz.build_quiz(args.dreams, work / f"{audio}.html", controls=True, data_dir=args.data, real=1,
                               audio=audio, panel=False)
        pages[audio] = made
        print(f"{audio}: {made.n_items} items, {made.n_pairs} pairs: page {made.page_bytes / 2**20:.2f} MB")
    text = pages["flac"].page.read_text()
    start = text.index('"media":{')
    (work / "yardstick.html").write_text(text[:start] + '"media":{}}</script>' + text[text.index("<script>", start):])
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    browser = Browser(work / "profile")
    try:
        times: dict[str, list[float]] = {name: [] for name in [*pages, "yardstick"]}
        for _ in range(args.loads):
            for name in times:
                page = work / f"{name}.html"
                browser.load(page.as_uri())
                times[name].append(browser.js("performance.getEntriesByType('navigation')[0].loadEventEnd"))
    finally:
        browser.close()
        if busy is not None:
            busy.kill()
    stick = statistics.median(times["yardstick"])
    where = ", one core kept busy" if args.busy else ""
    for name in pages:
        ms = statistics.median(times[name])
        print(f"{name}: page of {pages[name].n_items} items loads in {ms:.0f} ms (median of {args.loads}{where}); "
              f"the same page without audio {stick:.0f} ms; target < 2000 ms: {'met' if ms < 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
