"""Genre transfer: start a dream from a real clip of another genre, bounded by ``--max-change``.

Issue 8 lists "seeding from real audio of another genre, with a bound on how far the dream may
move" as a mode (never the default, which starts from noise). For each genre G this takes one
real TEST clip of G (the middle clip of its first test track in the shipped checkpoints' track
split, held out from the dreaming model, the prior and the panel), dreams the next genre of the
list from it with the defaults plus ``--init CLIP --max-change D``, and asks the held-out panel
(the WAV as written, read back) what it hears: the target, or still the source?

    python scripts/transfer_study.py --data ../shared/gtzan4k [--bounds 0.25,0.5,1,none] [--seed 0]

Clips and dreams go to ``runs/transfer/`` (not the repository: they hold GTZAN audio). Writes
``docs/results/transfer.md`` and ``.json``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auralize import DREAMING_MODEL, DreamSettings, default_checkpoint, load_model, make_audible, save_wav  # noqa: E402
from auralize import features as F  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.panel import judge  # noqa: E402
from auralize.data import load_clips  # noqa: E402
from auralize.references import test_clips  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--bounds", default="0.25,0.5,1,none", help="--max-change values; none: unbounded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "transfer")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "transfer.md")
    args = ap.parse_args()
    clips = load_clips(args.data)
    sources = test_clips(clips, per_genre=1)
    genres = [g for g, _ in sources]
    model = load_model(default_checkpoint(DREAMING_MODEL))
    rows, table = [], []
    source_verdicts = {g: judge(a, genre=g)[0] for g, a in sources}
    for bound in [b.strip() for b in args.bounds.split(",") if b.strip()]:
        max_change = None if bound == "none" else float(bound)
        items = []
        for k, (source, audio) in enumerate(sources):
            target = genres[(k + 1) % len(genres)]
            clip = args.work / f"source-{source}.wav"
            save_wav(clip, audio, F.SAMPLE_RATE)
            settings = DreamSettings(init=clip, max_change=max_change, seed=args.seed)
            summary = make_audible(model, target, args.work / f"{bound}" / f"{source}-to-{target}.wav",
                                   settings=settings)[0]
            heard = F.load_audio(summary["files"]["wav"])
            back = judge(heard, genre=source)[0]
            items.append({"source": source, "target": target, "panel": summary["panel"]["majority"],
                          "p_target": summary["panel"]["p_target"], "p_source": back.p_target,
                          "round_trip": summary["round_trip"]["p_target_mean"]})
            print(f"max-change {bound}: {source} -> {target}: panel {items[-1]['panel']}, "
                  f"p(target) {items[-1]['p_target']:.3f}, p(source) {items[-1]['p_source']:.3f}", file=sys.stderr)
        rows.append({"max_change": bound, "items": items})
        table.append(f"| {bound} | {sum(i['panel'] == i['target'] for i in items)}/{len(items)} | "
                     f"{sum(i['panel'] == i['source'] for i in items)}/{len(items)} | "
                     f"{np.mean([i['p_target'] for i in items]):.3f} | {np.mean([i['p_source'] for i in items]):.3f} | "
                     f"{min(i['round_trip'] for i in items):.3f} |")
    src_hits = sum(v.hit for v in source_verdicts.values())
    src_p = np.mean([v.p_target for v in source_verdicts.values()])
    per_item = "\n".join(f"| {r['max_change']} | {i['source']} -> {i['target']} | {i['panel'] or 'split'} | "
                         f"{i['p_target']:.3f} | {i['p_source']:.3f} |" for r in rows for i in r["items"])
    command = shlex.join(["python", "scripts/transfer_study.py", *sys.argv[1:]]).replace(str(args.data),
                                                                                         "../shared/gtzan4k")
    text = f"""# Genre transfer from real clips, bounded (issue 8: a mode, not the default)

Made by:

    {command}

Each of the {len(sources)} source clips is one real TEST clip of its genre (held out from the
dreaming model, the priors and the panel); it is dreamed as the next genre of the list with the
defaults (`auralize --genre TARGET --init CLIP --max-change D --seed {args.seed}`: the shipped dreaming
model trained/cnn-mel-ensemble.json, class objective, fine grid, the genre-blind music prior), and the held-out
panel judges the WAV as written.
`--max-change D` keeps every value of the fine log-magnitude within D of the clip's own (0.5 is
+-4.3 dB per bin and frame). Before any change the panel hears {src_hits} of {len(sources)} source
clips as their genre (mean p {src_p:.3f}).

| max change | panel hears the target | panel still hears the source | mean panel p(target) | mean panel p(source) | lowest round trip p(target) |
|---|---|---|---|---|---|
{chr(10).join(table)}

## Every dream

| max change | source -> target | panel majority | p(target) | p(source) |
|---|---|---|---|---|
{per_item}
"""
    atomic_write_text(args.out, text)
    atomic_write_text(args.out.with_suffix(".json"), json.dumps({"command": command, "rows": rows,
                                                                 "source_hits": int(src_hits),
                                                                 "source_p": float(src_p)}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
