"""Does the model only choose one of the mixture's kinds of music? The prior alone at the dream's own component.

The default dream's control (the prior alone from noise) lands on the component nearest white noise. But the
dream may have landed on another component, one whose texture the panel already hears as the genre; then the
model only chose which kind of music, and the genre is that component's. This study measures it:

1. the default dreams with their controls, ``auralize --genre all --seed S --control`` (read back when the
   folder holds them); with the mixture prior, ``--control`` also makes, for each dream, the prior alone at the
   component of ``trained/music-mix-prior.npz`` its audio most belongs to (the same seed and settings);
2. the panel's p(G) of each dream and of the prior alone at its component: the difference (the dream's
   ``model_share_beyond_component``) is what the model adds beyond choosing the component.

With ``--data``, it also asks how much genre the components hold: each held-out clip (VALID and TEST of the
track split the prior was fitted on) is given the genre most of its component's TRAIN clips have (labels read
only here), against always guessing the most frequent genre.

    python scripts/component_controls.py --seeds 0,1,2 --data ../shared/gtzan4k -o docs/results/dream-components.md

Dreams go to ``runs/component-controls/`` (not the repo).
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's auralize, not an installed one

from auralize import load_prior, results  # noqa: E402
from auralize.dream import make_audible  # noqa: E402
from auralize.dream.mixture_prior import genre_in_components, genre_text  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.settings import DreamSettings  # noqa: E402

WORK = ROOT / "runs" / "component-controls"


def default_dreams(seed: int) -> list[dict]:
    """The default dreams of ``seed`` with their controls (``--control``: from noise, and at the mixture component
    each dream ends in); made once, then read back."""
    out = WORK / f"default-seed{seed}"
    done = [results.read(p, "dream") for p in sorted(out.glob("*.json"))] if out.is_dir() else []
    dreams = [d for d in done if "component_control" in d]
    if len(dreams) == 10:
        return dreams
    return make_audible(None, "all", out, settings=DreamSettings(seed=seed), control=True, progress=False)


def components_and_genre(prior, data: Path) -> str:
    """How well a held-out clip's component tells its genre, against the most frequent genre."""
    from auralize.data import load_clips

    clips = load_clips(data, int(prior.meta.get("split_seed", 0)))
    train, held = clips.split["train"], np.concatenate([clips.split["valid"], clips.split["test"]])
    return genre_text(genre_in_components(prior.component_of(clips.audio[train]), clips.label[train],
                                          prior.component_of(clips.audio[held]), clips.label[held], clips.genres))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--data", type=Path, default=None, help="a GTZAN folder: also ask how much genre the components hold")
    ap.add_argument("-o", "--out", type=Path, default=None, help="write this markdown page")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    prior = load_prior("music-mix")
    rows, lines = [], []
    for seed in seeds:
        dreams = default_dreams(seed)
        ks = [d["component_control"]["component"] for d in dreams]
        hits = alone_hits = 0
        adds = []
        for d, k in zip(dreams, ks):
            genre, at = d["genre"], d["component_control"]["panel"]
            hits += d["panel"]["majority"] == genre
            alone_hits += at["majority"] == genre
            adds.append(d["model_share_beyond_component"])
            lines.append(f"| {seed} | {genre} | {d['panel']['majority'] or 'split'} | {d['panel']['p_target']:.2f} | {k} | "
                         f"{at['majority'] or 'split'} | {at['p_target']:.2f} | {adds[-1]:+.2f} |")
        rows.append((seed, hits, alone_hits, float(np.mean(adds)), len(set(ks))))
        print(f"seed {seed}: dreams heard as G {hits}/10; the prior alone at each dream's component heard as G "
              f"{alone_hits}/10; the model adds {np.mean(adds):+.3f} of p(G) beyond the component; "
              f"{len(set(ks))} components for ten genres", flush=True)
    purity = components_and_genre(prior, args.data) if args.data is not None else ""
    if purity:
        print(purity)
    if args.out is not None:
        command = shlex.join(["python", "scripts/component_controls.py", "--seeds", args.seeds,
                              *(["--data", str(args.data)] if args.data is not None else []), "-o", str(args.out)])
        summary = "\n".join(f"| {s} | {h} | {a} | {m:+.3f} | {n} |" for s, h, a, m, n in rows)
        atomic_write_text(args.out, PAGE.format(command=command, summary=summary, rows="\n".join(lines),
                                                purity=purity))


PAGE = """# Does the model only choose the mixture's kind of music? (issue 14)

Made by (on a shared 2-core machine):

    {command}

For each default dream (`auralize --genre all --seed S --control`), the component of the mixture prior its audio
most belongs to, and the prior alone at that component (`--control` makes it: the model off, that component alone
as the prior, the same seed and settings), judged by the held-out panel as written. *The model adds* is the
panel's p(G) of the dream minus that of the prior alone at its component: what the model puts in beyond choosing
which kind of music. (The other control `--control` makes is the prior alone from noise: the component nearest white noise.)

| seed | dreams heard as G | the prior alone at each dream's component heard as G | the model adds (mean p(G)) | components used |
|---|---|---|---|---|
{summary}

{purity}

| seed | genre | dream heard as | dream p(G) | component | the prior alone there heard as | its p(G) | the model adds |
|---|---|---|---|---|---|---|---|
{rows}
"""


if __name__ == "__main__":
    main()
