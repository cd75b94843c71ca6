"""Can the default dream's prior-only control differ by seed, without costing the dreams? (issue 14, part 2)

With the mixture prior, the prior alone descends from white noise to the mode nearest white noise, whatever
the seed, so every seed's control is nearly the same sound (the panel hears it as metal, as it hears white
noise). This probe starts each dream somewhere that depends on the seed, or gives it a part of the prior
that does, or lets it choose that part through the model, and measures both sides with the shipped panel:
the dreams and their controls (``--genre all --control``, seeds given), and the prior alone for ten seeds.
Like issue 14's own controls, each variant replaces one function of the library for the run:

- ``warm:N``: for the first N of the 150 steps, the prior alone, with one of its components drawn by the seed
  (``MixturePrior.drawn``), then the model and the whole mixture (dream and control share those N steps);
- ``colour:A``: the fine grid's starting log-magnitude gets a smooth random spectral envelope drawn by the
  seed (four cosines over frequency, each of amplitude ~ N(0, A) in natural-log units);
- ``boost:B``: ``--prior-sample`` with the drawn component's log-weight raised by B instead of the others
  removed (B = 0 is the whole mixture, a large B one component, as ``--prior-sample`` is);
- ``subset:K``: ``--prior-sample`` keeps K of the components, drawn by the seed without replacement by their
  weights (K = 1 is ``drawn``; K = all of them the whole mixture): the dream chooses among K kinds of music, and the
  prior alone goes to the one of them nearest white noise, which the seed decides;
- ``steps:N``: ``drawn`` with N steps instead of 150 (does a longer ascent let the model leave the component?);
- ``langevin:S``: after every step, Gaussian noise of standard deviation S (natural-log units, falling linearly
  to 0 at the last step, drawn by the seed) is added to the fine grid's log-magnitude: a noisy, annealed ascent,
  as PPGN samples (Nguyen et al. 2017), whose basin may depend on the seed;
- ``posterior:W``: each genre's dream gets one component, drawn by the seed with probability proportional to its
  weight times the dreaming model's p(G) of that component's own sound raised to ``W x model weight`` (the prior
  alone at component k from seed 0's noise, rendered once and cached): the model chooses the kind of music, the
  seed draws among those it finds likely. With the model off (the control and the prior alone) this is ``drawn``;
- ``default`` and ``drawn`` (``--prior-sample``), unchanged, for reference.

    python scripts/probe_dream_start.py default drawn warm:40 warm:15 colour:1.0 colour:0.3 boost:100 boost:300
    python scripts/probe_dream_start.py subset:4 subset:8 steps:300 langevin:0.3 posterior:1 posterior:6

Dreams go to ``runs/probe-dream-start/`` (not the repo; a folder that holds its dreams is read back, so an
interrupted probe resumes). Prints one line per variant and seed; ``-o PAGE`` writes the table too.
"""
from __future__ import annotations

import argparse
import importlib
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))  # this checkout's auralize, not an installed one

from bench_panel import most_often_p, tally  # noqa: E402

from auralize import results  # noqa: E402
from auralize.dream.mixture_prior import MixturePrior  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.dream.objectives import Objective  # noqa: E402
from auralize.settings import DreamSettings, Target  # noqa: E402

audible = importlib.import_module("auralize.dream.audible")
params = importlib.import_module("auralize.dream.params")
WORK = ROOT / "runs" / "probe-dream-start"
SEED = [0]  # the seed of the run in progress, for the replaced functions
STEPS = [DreamSettings().steps]  # the steps of the variant in progress
saved_drawn = MixturePrior.drawn
saved_project = params.FineParam.project
saved_objective = audible.genre_objective


def warm(steps: int) -> None:
    """The first ``steps`` steps of every dream: the prior alone, one component drawn by the seed."""
    whole = audible.genre_objective

    def objective(model, genre, target=Target(), report=None, prior=None, prior_weight=0.0):
        full = whole(model, genre, target, report, prior, prior_weight)
        first = prior_weight * audible.prior_match(prior.drawn(SEED[0]), genre, 0.0)
        calls = [0]

        def fn(ctx):
            calls[0] += 1
            return first(ctx) if calls[0] <= steps else full(ctx)
        return Objective(fn, f"{full.description} (first {steps} steps: a drawn component alone)")
    audible.genre_objective = objective


def colour(amplitude: float) -> None:
    """A smooth random spectral envelope on the fine grid's start, drawn by the seed."""
    start = params.FineParam.__init__

    def init(self, audio, model):
        start(self, audio, model)
        rng = np.random.default_rng(1000 + SEED[0])
        f = np.linspace(0, 1, self.logmag.shape[1])
        envelope = sum(rng.standard_normal() * amplitude * np.cos(np.pi * j * f) for j in range(1, 5))
        with torch.no_grad():
            self.logmag.add_(torch.as_tensor(envelope, dtype=torch.float32)[None, :, None])
    params.FineParam.__init__ = init


def boost(log_weight: float) -> None:
    """``--prior-sample`` keeps the drawn component's neighbours, its log-weight raised by ``log_weight``."""
    def drawn(self, seed):
        one = saved_drawn(self, seed)  # which component, as --prior-sample draws it
        w = np.log(self.weights)
        w[one.meta["component"]] += log_weight
        w = np.maximum(np.exp(w - w.max()), 1e-300)
        return replace(self, weights=w / w.sum(), meta=one.meta)
    MixturePrior.drawn = drawn


def subset(k: int) -> None:
    """``--prior-sample`` keeps ``k`` components drawn by the seed (without replacement, by weight)."""
    def drawn(self, seed):
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(self.weights), size=min(k, len(self.weights)), replace=False,
                                  p=self.weights / self.weights.sum()))
        w = self.weights[keep]
        return replace(self, weights=w / w.sum(), centers=self.centers[keep], precision_chol=self.precision_chol[keep],
                       meta={**self.meta, "drawn": int(seed), "subset": keep.tolist()})
    MixturePrior.drawn = drawn


def steps(n: int) -> None:
    """``drawn`` with ``n`` steps."""
    STEPS[0] = n


def langevin(sigma: float) -> None:
    """Annealed Gaussian noise on the fine grid's log-magnitude after every step, drawn by the seed."""
    def project(self):
        t = getattr(self, "_probe_t", 0)
        if t == 0:
            self._probe_gen = torch.Generator().manual_seed(3000 + SEED[0])
        self._probe_t = t + 1
        scale = sigma * max(0.0, 1.0 - (t + 1) / STEPS[0])
        with torch.no_grad():
            self.logmag.add_(scale * torch.randn(self.logmag.shape, generator=self._probe_gen))
        saved_project(self)
    params.FineParam.project = project


def component_scores(model, prior) -> np.ndarray:
    """The dreaming model's mean p(G) ``(components, genres)`` of each component's sound alone (cached in WORK)."""
    path = WORK / "component-scores.npy"
    if path.is_file():
        return np.load(path)
    from auralize.dream.render import render, to_audio
    from auralize.evaluation import predict

    off, settings = Target(model_weight=0.0), DreamSettings(seed=0)
    weight = audible._prior_for(Target(), settings.param, model.genres)[0]
    objectives = [saved_objective(model, model.genres[0], off, None, prior.component(k), weight)
                  for k in range(len(prior.weights))]
    result = render(model, objectives, settings, progress=False)
    audio = audible.listening_level(to_audio(result, n_iter=settings.griffin_lim_iters, seed=0))
    scores = np.array([predict(model, a[None]).probabilities.mean(0) for a in audio])  # what round_trip reads
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(path, scores)
    return scores


def posterior(power: float) -> None:
    """Each genre's dream: one component drawn by the seed from weight x p_model(G | component)^(power x W)."""
    whole = audible.genre_objective

    def objective(model, genre, target=Target(), report=None, prior=None, prior_weight=0.0):
        if not isinstance(prior, MixturePrior) or len(prior.weights) == 1 or prior_weight == 0:
            return whole(model, genre, target, report, prior, prior_weight)
        q = component_scores(model, prior)[:, list(model.genres).index(genre)]
        w = prior.weights * np.clip(q, 1e-12, 1.0) ** (power * target.model_weight)
        k = int(np.random.default_rng(SEED[0]).choice(len(w), p=w / w.sum()))
        return whole(model, genre, target, report, prior.component(k), prior_weight)
    audible.genre_objective = objective


def dreams(out: Path, genres: str, target: Target, seed: int, control: bool) -> list[dict]:
    """The dreams of one run, read back when ``out`` already holds them all (an interrupted probe resumes)."""
    done = sorted(p for p in out.glob("*.json") if not p.stem.endswith("-control")) if out.is_dir() else []
    if len(done) == (10 if genres == "all" else 1):
        return [results.read(p, "dream") for p in done]
    shutil.rmtree(out, ignore_errors=True)
    return audible.make_audible(None, genres, out if genres == "all" else out / "prior-alone.wav", target=target,
                                settings=DreamSettings(seed=seed, steps=STEPS[0]), control=control, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="+", help=NAMES)
    ap.add_argument("--seeds", default="0,1,2", help="seeds of the dreams and their controls")
    ap.add_argument("--alone-seeds", type=int, default=10, help="seeds of the prior alone (0..n-1)")
    ap.add_argument("-o", "--out", type=Path, default=None, help="also write this markdown page")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    saved = audible.genre_objective, params.FineParam.__init__
    table = []
    for variant in args.variants:
        kind, _, value = variant.partition(":")
        if kind not in VARIANTS:
            ap.error(f"unknown variant {variant!r}: use {NAMES}")
        audible.genre_objective, params.FineParam.__init__ = saved
        MixturePrior.drawn, params.FineParam.project, STEPS[0] = saved_drawn, saved_project, DreamSettings().steps
        VARIANTS[kind](float(value or 0))
        sample = kind in ("boost", "drawn", "subset", "steps")  # variants of what --prior-sample draws
        hits, controls, shares, trips = [], [], [], []
        for s in seeds:
            SEED[0] = s
            rows = dreams(WORK / f"{kind}{value}-seed{s}", "all", Target(prior_sample=sample), s, True)
            hits.append(sum(r["panel"]["majority"] == r["genre"] for r in rows))
            controls.append(tally([r["control"]["panel"]["majority"] or "split" for r in rows]))
            shares.append(float(np.mean([r["model_share"] for r in rows])))
            trips.append(min(r["round_trip"]["p_target_mean"] for r in rows))
            print(f"{variant} seed {s}: panel hears G in {hits[-1]}/10; controls heard as {controls[-1]}; the model's "
                  f"share {shares[-1]:+.3f}; lowest round trip {trips[-1]:.3f}", flush=True)
        heard = []
        for s in range(args.alone_seeds):
            SEED[0] = s
            row = dreams(WORK / f"{kind}{value}-alone-seed{s}", "jazz", Target(model_weight=0.0, prior_sample=sample),
                         s, False)[0]
            heard.append(row["panel"]["majority"] or "split")
        counts = tally(heard)
        most = max((n for g, n in counts.items() if g != "split"), default=0)
        chance = most_often_p(most, args.alone_seeds, 10)
        alone = ", ".join(f"{g} {n}" for g, n in counts.items())
        print(f"{variant}: the prior alone, seeds 0-{args.alone_seeds - 1}, heard as {alone} (p = {chance:.2g})",
              flush=True)
        table.append(f"| `{variant}` | {' / '.join(map(str, hits))} | "
                     + " / ".join(", ".join(f"{g} {n}" for g, n in c.items()) for c in controls)
                     + f" | {np.mean(shares):+.3f} | {min(trips):.3f} | {alone} | {chance:.2g} |")
    if args.out is not None:
        command = shlex.join(["python", "scripts/probe_dream_start.py", *args.variants, "--seeds", args.seeds,
                              "--alone-seeds", str(args.alone_seeds), "-o", str(args.out)])
        atomic_write_text(args.out, PAGE.format(command=command, seeds=args.seeds, alone=args.alone_seeds - 1,
                                                table="\n".join(table)))


PAGE = """# Probe: can the prior-only control differ by seed without costing the dreams? (issue 14)

Made by (on a shared 2-core machine):

    {command}

Each variant replaces one function of the library for the run (see the script's docstring); `default` and
`drawn` (`--prior-sample`) are the library as it is. `warm:N` and `colour:A` change the start; `boost:B` and
`subset:K` the part of the mixture `--prior-sample` keeps; `steps:N` the length of a `drawn` ascent;
`langevin:S` adds annealed noise to every step; `posterior:W` draws each genre's component with the dreaming
model's p(G) of the component's own sound to the power W (with the model off, that is `drawn`).
Per variant: `--genre all --control` for seeds {seeds}, judged by the shipped panel as written (hits of
10; what the ten controls are heard as; the model's share, the panel's p(G) of the dream minus its
control's, mean over genres and seeds; the dreaming model's lowest round trip), and the prior alone
(`--model-weight 0`) for seeds 0-{alone}, with chance's p of its most frequent genre (10 genres equally
likely, union bound, as `benchmarks/bench_panel.py` computes it).

| variant | panel hits per seed | controls heard as, per seed | the model's share | round trip lowest | the prior alone, over the seeds | chance p |
|---|---|---|---|---|---|---|
{table}
"""


NAMES = "default, drawn, warm:N, colour:A, boost:B, subset:K, steps:N, langevin:S or posterior:W"
VARIANTS = {"default": lambda v: None, "drawn": lambda v: None, "warm": lambda v: warm(int(v)), "colour": colour,
            "boost": boost, "subset": lambda v: subset(int(v)), "steps": lambda v: steps(int(v)),
            "langevin": langevin, "posterior": posterior}

if __name__ == "__main__":
    main()
