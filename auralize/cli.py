"""The ``auralize`` command: a thin layer over the Python API."""
from __future__ import annotations

from pathlib import Path

import click

from .cli_options import CHECKPOINT_HELP, JOBS_OR_AUTO, QUIET, SEED, AuralizeGroup, Finite, LazyChoice, echo_warnings, rule_names
from .checks import MAX_SECONDS
from .settings import MAX_COPIES, DreamSettings, Target


def _param_names() -> list[str]:
    from .dream.params import PARAMS

    return PARAMS.choices()


def _objective_names() -> list[str]:
    from .dream.objectives import OBJECTIVE_KINDS

    return OBJECTIVE_KINDS.choices()


@click.group(cls=AuralizeGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--genre", default=None, help="Genre to make audible (or 'all'): 'auralize --genre jazz'.")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="The model to dream with (default the shipped trained/cnn-mel-ensemble.json, two robust CNNs; the paper's LSTM: "
                   f"trained/lstm.pt): {CHECKPOINT_HELP}.")
@click.option("-o", "--out", type=click.Path(), default=None,  # a str: "run3/" keeps its slash (a folder)
              help="WAV path for one genre (default quintessential-<genre>.wav; an existing folder, or one ending "
                   "in /: written into it); folder for --genre all (default quintessential/).")
@click.option("--objective", type=LazyChoice(_objective_names), default=Target.objective, show_default=True,
              help="class: the genre's log-probability; logodds: log p/(1-p), which keeps rising once the model is "
                   "sure; logit: the genre's logit; neuron: the genre's most commonly active neuron (the paper's "
                   "future work).")
@click.option("--param", type=LazyChoice(_param_names), default="fine", show_default=True,
              help="Optimise the 22x513 input (then Griffin-Lim), the samples through the front end, or a fine "
                   "512/128 STFT magnitude (Griffin-Lim in the loop).")
@click.option("--seconds", type=Finite(lo=5, hi=MAX_SECONDS), default=5.0, show_default=True,
              help="Length of the dream, 5 s to 10 minutes; every 5-s window serves the objective.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=DreamSettings.steps, show_default=True,
              help="Gradient-ascent steps.")
@click.option("--lr", type=Finite(lo=0, lo_open=True, hi=10), default=None,
              help="Adam learning rate (default 0.1 spectrogram and fine, 0.005 waveform).")
@click.option("--init", default="noise", show_default=True, help="noise, silence, or an audio file to start from.")
@click.option("--max-change", type=Finite(lo=0, lo_open=True, hi=100), default=None,
              help="Keep the dream within this distance of its start (fine: log-magnitude, 0.5 = +-4.3 dB); with "
                   "--init SONG, a genre transfer that stays near the song.")
@click.option("--layer", default=None, help="Neuron objective: state name (default: the saved statistics' layer).")
@click.option("--unit", type=click.IntRange(0), default=None,
              help="Neuron objective: unit index (default: the genre's top neuron).")
@click.option("--rule", type=LazyChoice(rule_names), default="mean", show_default=True,
              help="Neuron objective: how the unit's activation is reduced over frames.")
@click.option("--class-weight", type=Finite(lo=-1e3, hi=1e3), default=1.0, show_default=True,
              help="Neuron objective: weight of the genre's log-probability added to it (0: pure neuron).")
@click.option("--prior-weight", type=Finite(lo=0, hi=1e3), default=None,
              help="Pull of the dream's audio towards the prior's real music (default: the prior's own, 0.1 for "
                   "music and 0.5 for genre, in fine and waveform dreams; 0 in spectrogram ones; 0: off).")
@click.option("--caricature", type=Finite(lo=0, hi=10), default=1.0, show_default=True,
              help="How far the prior's target moves the genre's statistics away from the other genres' "
                   "(0: the genre's plain mean).")
@click.option("--prior", "prior_path", default=None,
              help="The prior: music-mix (genre-blind, the default), music (genre-blind, one Gaussian), genre (each genre's texture), or a prior file ('auralize train-prior' makes one).")
@click.option("--model-weight", type=Finite(lo=0, hi=1e3), default=1.0, show_default=True,
              help="Weight of the model's objective; 0 is the prior alone, the dream's control.")
@click.option("--prior-genre", default=None,
              help="Pull the prior towards this genre instead of the dream's (the conflict test: model G, prior G2).")
@click.option("--prior-sample", is_flag=True,
              help="Pull the genre-blind prior towards a random music texture drawn from it (by --seed) instead "
                   "of its centre, so the prior alone sounds different on every seed.")
@click.option("--control", is_flag=True,
              help="Also make each dream's prior-only control (same seed and settings, model off) and record the "
                   "model's share: the panel's p(genre) of the dream minus that of its control.")
@click.option("--l2", type=Finite(lo=0, hi=1e3), default=0.01, show_default=True, help="Pull towards the average spectrum.")
@click.option("--tv-time", type=Finite(lo=0, hi=1e3), default=0.05, show_default=True, help="Total variation along time.")
@click.option("--tv-freq", type=Finite(lo=0, hi=1e3), default=0.05, show_default=True,
              help="Total variation along frequency.")
@click.option("--no-clamp", is_flag=True, help="Do not keep the input within the range of real inputs.")
@click.option("--jitter", type=click.IntRange(0, 22), default=1, show_default=True,
              help="Random time shift of the windows, in frames (at most 22, one clip); with audio (fine, waveform) "
                   "also a sub-frame shift of the samples (0: neither).")
@click.option("--noise", type=Finite(lo=0, hi=10), default=0.1, show_default=True,
              help="Random input noise (spectrogram) or gain jitter and dither (waveform) each step.")
@click.option("--transforms", default="", help="Extra robustness transforms each step, comma-separated: "
              "shift, gain, noise, freq-shift, time-mask, freq-mask (see auralize.TRANSFORMS); NAME:VALUE sets "
              "its first setting (freq-mask:60).")
@click.option("--copies", type=click.IntRange(1, MAX_COPIES), default=1, show_default=True,
              help="Transformed copies averaged at every step.")
@click.option("--iters", type=click.IntRange(0, 100_000), default=100, show_default=True,
              help="Griffin-Lim iterations (spectrogram dreams; fine: after the ascent).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Optional data folder: a real clip of the genre is drawn beside the dream.")
@click.option("--no-panel", is_flag=True, help="Do not judge the dreams with the held-out listening panel.")
@click.option("--jobs", type=JOBS_OR_AUTO, default="auto", show_default=True,
              help="Worker processes that share the genres of --genre all (or a list): a number, or auto (one per "
                   "core, at most 4); the same files whatever N.")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Threads for every command (default: 1 for the dream loop, Griffin-Lim and per-clip inference, "
                   "torch's own elsewhere; AURALIZE_THREADS or OMP_NUM_THREADS set it too).")
@SEED
@QUIET
@click.version_option(package_name="auralize")
@click.pass_context
def cli(ctx: click.Context, genre, checkpoint, out, data_dir, threads, seed, quiet, **options) -> None:
    """auralize: train recurrent genre classifiers and make what they learned audible.

    Without a command, 'auralize --genre jazz' dreams the quintessential jazz of the shipped dreaming
    model (trained/cnn-mel-ensemble.json; the paper's LSTM with --checkpoint trained/lstm.pt) and writes
    quintessential-jazz.wav (plus -22050.wav, .png, .json and .npy beside it).
    """
    from . import threads as thread_policy

    thread_policy.use(threads)
    with echo_warnings():
        thread_policy.small_ops()  # an environment setting that is capped says so once, here
    if ctx.invoked_subcommand is not None:
        return
    if genre is None:
        click.echo(ctx.get_help())
        return
    _dream(genre, checkpoint, out, data_dir, seed, quiet, options)


def _dream(genre, checkpoint, out, data_dir, seed, quiet, o: dict) -> None:
    import time

    from .dream import make_audible
    from .results import panel_line
    from .settings import DreamSettings

    started = time.time()
    target = Target(o["objective"], o["layer"], o["unit"], o["rule"], o["class_weight"], o["prior_weight"],
                    o["prior_path"], o["caricature"], o["model_weight"],
                    o["prior_genre"].lower() if o["prior_genre"] else None, o["prior_sample"])
    settings = DreamSettings(param=o["param"], seconds=o["seconds"], steps=o["steps"], lr=o["lr"], init=o["init"],
                             l2=o["l2"], tv_time=o["tv_time"], tv_freq=o["tv_freq"], clamp=not o["no_clamp"],
                             jitter=o["jitter"], noise=o["noise"],
                             transforms=tuple(t.strip() for t in o["transforms"].split(",") if t.strip()),
                             copies=o["copies"], max_change=o["max_change"], griffin_lim_iters=o["iters"],
                             seed=seed)
    with echo_warnings():
        summaries = make_audible(checkpoint, genre, out, target=target, settings=settings, data_dir=data_dir,
                                 panel=not o["no_panel"], control=o["control"], progress=not quiet, jobs=o["jobs"])
    for s in summaries:
        trip = s["round_trip"]
        click.echo(f"{s['genre']}: {s['files']['wav']}  objective {s['objective']}: "
                   f"{s['objective_start']:.3f} -> {s['objective_end']:.3f}")
        click.echo(f"  {panel_line(s.get('panel'), s['genre'])}; same-model round trip p({s['genre']}) = "
                   f"{trip['p_target_mean']:.3f} (heard as {trip['verdict']})")
        click.echo(f"  genre from {s['genre_from']}")
        for key, said, share_key, label in (
                ("control", "control (prior alone, {wav})", "model_share", "the model's share"),
                ("component_control", "the prior alone at component {component}, where the dream ends ({wav})",
                 "model_share_beyond_component", "the model's share beyond that kind of music")):
            if key in s:
                at = s[key]
                share = f"; {label}: {s[share_key]:+.3f}" if share_key in s else ""
                click.echo(f"  {said.format(wav=at['files']['wav'], component=at.get('component'))}: "
                           f"{panel_line(at.get('panel'), s['genre'])}{share}")
    first = Path(summaries[0]["files"]["wav"])
    click.echo(f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/ "
               f"[{first.stem}.wav, -22050.wav, .png, .json, .npy]" if len(summaries) == 1 else
               f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/<genre>.wav, .png, .json, .npy")


def _register() -> None:
    """Put every subcommand on the group (their modules import nothing heavy until they run)."""
    from .commands import analysis, data, listening, models

    for module in (models, analysis, listening, data):
        for command in vars(module).values():
            if isinstance(command, click.Command):
                cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and ``python -m auralize``."""
    cli.main(args=argv, prog_name="auralize")
