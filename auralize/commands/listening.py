"""Commands about listening: the ``gallery`` page and the held-out panel (``judge``, ``train-judge``), and the dreams' genre prior (``train-prior``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..cli_options import (DATA, FORCE, NO_RANDOMNESS_SEED, QUIET, SEED, Finite, LazyChoice, echo_warnings)


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
@click.option("--kind", type=LazyChoice(_prior_names), default=None,
              help="music-mix (the dreams' default): genre-blind, a mixture learned without labels; music: the same as "
                   "one Gaussian; genre: each genre's texture.")
@click.option("--rank", type=click.IntRange(1, 512), default=None,
              help="Principal directions of the genre-blind priors (default 32, fewer with fewer clips).")
@click.option("--components", type=click.IntRange(1, 256), default=None,
              help="Gaussians of the music-mix prior (default 16, fewer with fewer clips).")
@FORCE
@NO_RANDOMNESS_SEED
@QUIET
def train_prior_cmd(data_dir, out, split_seed, statistics, kind, rank, components, force, quiet):
    """Fit a prior the dreams are pulled towards: real music (music) or each genre's texture (genre)."""
    from ..dream.priors import train_prior

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    with echo_warnings():
        names = [n.strip() for n in statistics.split(",") if n.strip()] if statistics is not None else None
        if names == []:
            raise click.BadParameter(f"{statistics!r} names no statistic", param_hint="'--statistics'")
        prior, path, card = train_prior(data_dir, out, split_seed, command="auralize " + " ".join(sys.argv[1:]),
                                        names=names, kind=kind, rank=rank, components=components, log=log,
                                        force=force)
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


def _audio_names() -> list[str]:
    from ..quiz import AUDIO_FORMATS

    return list(AUDIO_FORMATS)


@click.command("listen")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="DIR | --score [ANSWERS...]")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="The quiz page (default DIR/quiz.html; its key goes beside it as <page>.key.json); with --score, "
                   "the stem of the score files (default beside the key: <page>.score).")
@click.option("--controls", is_flag=True, help="Also ask about the dreams' controls (prior-only, model-only) in DIR.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="A data folder for --real (its held-out test tracks, the shipped split) and --noise's spectrum.")
@click.option("--real", type=click.IntRange(0, 1000), default=0, show_default=True,
              help="Real test clips per genre of DIR (needs --data).")
@click.option("--resynth", is_flag=True,
              help="Also ask about the real clips made as a dream's audio is (fine-grid magnitude, Griffin-Lim phase).")
@click.option("--noise", is_flag=True, help="Also ask about white noise and noise with real music's mean spectrum.")
@click.option("--audio", type=LazyChoice(_audio_names), default="flac", show_default=True,
              help="How the page embeds audio (4 kHz): flac plays everywhere; vorbis is a third of the size.")
@click.option("--no-panel", is_flag=True, help="Do not record the held-out panel's answers in the key.")
@click.option("--title", default="Listening test", show_default=True, help="The page's title.")
@click.option("--score", "scoring", is_flag=True,
              help="Score answers files (PATHS) that listeners saved; with none, the panel's figures alone (needs --key).")
@click.option("--key", type=click.Path(path_type=Path), default=None,
              help="With --score: the quiz's key (default: the *.key.json beside the answers or here that they answer).")
@FORCE
@SEED
def listen_cmd(paths, out, controls, data_dir, real, resynth, noise, audio, no_panel, title, scoring, key, force, seed):
    """A blind listening quiz for people: 'auralize listen DIR' writes the page; '--score answers*.json' scores it."""
    from ..errors import AuralizeError
    from .. import quiz

    with echo_warnings():
        if scoring:
            if not (paths or key):
                raise AuralizeError("--score needs the answers files, or --key alone for the panel's figures", param="score")
            key_path = key or quiz.find_key(paths)
            the_key = quiz.read_key(key_path)
            skipped = []

            def warn(message: str) -> None:
                skipped.append(message)
                click.echo(f"warning: {message}", err=True)

            answers = quiz.read_answers(paths, the_key, warn=warn) if paths else []
            scored = quiz.score_quiz(the_key, answers)
            stem = out or key_path.with_name(key_path.name[:-len(".key.json")] + ".score")
            files = quiz.write_score(scored, the_key, stem, skipped)
            click.echo("\n".join(quiz.score_lines(scored)))
            click.echo(f"wrote {', '.join(str(f) for f in files.values())}")
            return
        if len(paths) != 1 or not paths[0].is_dir():
            raise AuralizeError(f"give one folder of dreams to build a quiz from (got {len(paths)} path(s): "
                                f"{paths[0] if paths else ''}), or --score with answers files", param="paths")
        made = quiz.build_quiz(paths[0], out, controls=controls, data_dir=data_dir, real=real, resynth=resynth,
                               noise=noise, seed=seed, panel=not no_panel, audio=audio, title=title, force=force)
    click.echo(made.summary())
