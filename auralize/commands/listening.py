"""Commands about listening: the ``gallery`` page and the held-out panel (``judge``, ``train-judge``), and the dreams' genre prior (``train-prior``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..cli_options import (DATA, FORCE, NO_RANDOMNESS_SEED, QUIET, Finite, LazyChoice, echo_warnings)


@click.command("gallery")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="HTML path (default: RESULTS_DIR/index.html).")
@click.option("--neurons", "neurons", type=click.Path(path_type=Path), multiple=True,
              help="A checkpoint's .neurons.json to include (repeatable).")
@NO_RANDOMNESS_SEED
def gallery_cmd(results_dir, out, neurons):
    """One self-contained HTML page to listen to dreams and explanations in a folder."""
    from ..gallery import write_gallery

    with echo_warnings():
        page = write_gallery(results_dir, out, neurons=list(neurons) or None)
    click.echo(f"wrote {page}")

def _judge_names() -> list[str]:
    from ..panel import JUDGES

    return list(JUDGES)

@click.command("train-judge")
@click.argument("name", type=LazyChoice(_judge_names))
@DATA
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the judge (default trained/panel/<NAME>.<npz|pt>); its model card goes beside it.")
@click.option("--split-seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the track split (0: the shipped checkpoints' split, whose test part stays held out).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Training seed (default: the judge's own, 1 for the recurrent judges, 0 otherwise).")
@FORCE
@QUIET
def train_judge_cmd(name, data_dir, out, split_seed, seed, force, quiet):
    """Train a judge of the held-out listening panel and write its model card."""
    from ..panel import train_judge

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    with echo_warnings():
        trained = train_judge(name, data_dir, out, seed=seed, split_seed=split_seed,
                              command="auralize " + " ".join(sys.argv[1:]), log=log, force=force)
    for score in trained.scores:
        click.echo("\n".join(score.lines()))
    click.echo(f"saved {trained.path} and {trained.card}")

def _prior_names() -> list[str]:
    from ..dream.priors import PRIORS

    return PRIORS.choices()


@click.command("train-prior")
@DATA
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the prior (default trained/genre-prior.npz); its card goes beside it.")
@click.option("--split-seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the track split; the prior learns from its TRAIN part only.")
@click.option("--statistics", default=None,
              help="Comma-separated statistics to fit (default: all of auralize.dream.prior.STATISTICS).")
@click.option("--kind", type=LazyChoice(_prior_names), default="music", show_default=True,
              help="music: genre-blind, learned without labels (the dreams' default); genre: each genre's texture.")
@click.option("--rank", type=click.IntRange(1, 512), default=None,
              help="Principal directions of the music prior (default 32, fewer with fewer clips).")
@FORCE
@NO_RANDOMNESS_SEED
@QUIET
def train_prior_cmd(data_dir, out, split_seed, statistics, kind, rank, force, quiet):
    """Fit a prior the dreams are pulled towards: real music (music) or each genre's texture (genre)."""
    from ..dream.priors import train_prior

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    with echo_warnings():
        names = [n.strip() for n in statistics.split(",") if n.strip()] if statistics is not None else None
        if names == []:
            raise click.BadParameter(f"{statistics!r} names no statistic", param_hint="'--statistics'")
        prior, path, card = train_prior(data_dir, out, split_seed, command="auralize " + " ".join(sys.argv[1:]),
                                        names=names, kind=kind, rank=rank, log=log, force=force)
    for part, acc in prior.meta.get("nearest_genre_accuracy", {}).items():
        click.echo(f"{part}: clips nearest to their own genre under the prior alone: {acc:.3f}")
    if "energies" in prior.meta:
        e = prior.meta["energies"]
        click.echo(f"energy of held-out clips (median) {e['held_out_median']:.2f}; of white noise "
                   f"{e['noise_median']:.0f}; per genre: " + ", ".join(f"{g} {v:.2f}" for g, v in
                                                                     e["per_genre_median"].items()))
    click.echo(f"saved {path} and {card}")


@click.command("judge")
@click.argument("wavs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="WAV...")
@click.option("--judges", default=None, help="Comma-separated judges (default: the whole panel).")
@click.option("--genre", default=None, help="Target genre: print each judge's p(genre) and whether the panel hears it.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@click.option("--max-seconds", type=Finite(lo=5, hi=86_400), default=600, show_default=True,
              help="Judge only the first this many seconds of a long file (a warning says so).")
@NO_RANDOMNESS_SEED
def judge_cmd(wavs, judges, genre, as_json, max_seconds):
    """What the held-out listening panel hears in audio: each judge's verdict and p(genre).

    A file that cannot be judged (unreadable, too short, silent) is skipped with a warning.
    """
    from ..errors import AuralizeError
    from ..panel import judge

    def skip(name: str, exc: AuralizeError) -> None:
        if len(wavs) == 1:
            raise exc
        click.echo(f"warning: skipping {name}: {exc}", err=True)

    with echo_warnings():
        verdicts = judge(list(wavs), judges=judges, genre=genre.lower() if genre else None, on_error=skip,
                         max_seconds=max_seconds)
    if not verdicts:
        raise AuralizeError(f"none of the {len(wavs)} files could be judged (see the warnings)")
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in verdicts], indent=1))
        return
    for v in verdicts:
        click.echo(v.summary())
