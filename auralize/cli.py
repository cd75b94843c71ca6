"""The ``auralize`` command: a thin layer over the Python API."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli_options import (CHECKPOINT, DATA, GENRES_OPT, NO_RANDOMNESS_SEED, QUIET, SEED, SPLIT,
                          AuralizeGroup, Finite)
from .errors import AuralizeError

def _load_data(data_dir: Path, quiet: bool, genres: str | None = None):
    from .data import load_dataset
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = load_dataset(data_dir, progress=not quiet)
        finally:
            for w in caught:
                click.echo(f"warning: {w.message}", err=True)
    if genres:
        data = data.only([g.strip().lower() for g in genres.split(",") if g.strip()])
    click.echo(data.summary(), err=True)
    return data


@click.group(cls=AuralizeGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--genre", default=None, help="Genre to make audible (or 'all'): 'auralize --genre jazz'.")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model to dream with (default: the shipped trained/lstm.pt).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="WAV path for one genre (default quintessential-<genre>.wav); folder for --genre all "
                   "(default quintessential/).")
@click.option("--objective", type=click.Choice(["neuron", "class", "logit"]), default="neuron", show_default=True,
              help="neuron: the genre's most commonly active neuron (the paper's); class: its log-probability.")
@click.option("--param", type=click.Choice(["spectrogram", "waveform"]), default="spectrogram", show_default=True,
              help="Optimise the 22x513 input (then Griffin-Lim) or the samples through the front end.")
@click.option("--seconds", type=float, default=5.0, show_default=True, help="Length of the dream; every 5-s window serves the objective.")
@click.option("--steps", type=int, default=150, show_default=True, help="Gradient-ascent steps.")
@click.option("--lr", type=float, default=None, help="Adam learning rate (default 0.1 spectrogram, 0.005 waveform).")
@click.option("--init", default="noise", show_default=True, help="noise, silence, or an audio file to start from.")
@click.option("--layer", default=None, help="Neuron objective: state name (default: the saved statistics' layer).")
@click.option("--unit", type=int, default=None, help="Neuron objective: unit index (default: the genre's top neuron).")
@click.option("--rule", type=click.Choice(["last", "mean", "max"]), default="mean", show_default=True,
              help="Neuron objective: how the unit's activation is reduced over frames.")
@click.option("--class-weight", type=float, default=1.0, show_default=True,
              help="Neuron objective: weight of the genre's log-probability added to it (0: pure neuron).")
@click.option("--l2", type=float, default=0.01, show_default=True, help="Pull towards the average spectrum.")
@click.option("--tv-time", type=float, default=0.05, show_default=True, help="Total variation along time.")
@click.option("--tv-freq", type=float, default=0.05, show_default=True, help="Total variation along frequency.")
@click.option("--no-clamp", is_flag=True, help="Do not keep the input within the range of real inputs.")
@click.option("--jitter", type=int, default=1, show_default=True, help="Random time shift of the windows, in frames.")
@click.option("--noise", type=float, default=0.1, show_default=True, help="Random input noise each step (robustness).")
@click.option("--iters", type=int, default=100, show_default=True, help="Griffin-Lim iterations (spectrogram dreams).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Optional data folder: a real clip of the genre is drawn beside the dream.")
@SEED
@QUIET
@click.version_option(package_name="auralize")
@click.pass_context
def cli(ctx: click.Context, genre, checkpoint, out, objective, param, seconds, steps, lr, init, layer, unit, rule,
        class_weight, l2, tv_time, tv_freq, no_clamp, jitter, noise, iters, data_dir, seed, quiet) -> None:
    """auralize: train recurrent genre classifiers and make what they learned audible.

    Without a command, 'auralize --genre jazz' dreams the quintessential jazz of the shipped LSTM
    and writes quintessential-jazz.wav (plus -22050.wav, .png, .json and .npy beside it).
    """
    if ctx.invoked_subcommand is not None:
        return
    if genre is None:
        click.echo(ctx.get_help())
        return
    _dream(genre, checkpoint, out, objective, param, seconds, steps, lr, init, layer, unit, rule, class_weight,
           l2, tv_time, tv_freq, no_clamp, jitter, noise, iters, data_dir, seed, quiet)


def _pick_genres(genre: str, genres: tuple[str, ...]) -> list[str]:
    import difflib

    if genre.lower() == "all":
        return list(genres)
    if genre.lower() in genres:
        return [genre.lower()]
    near = difflib.get_close_matches(genre.lower(), genres, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise AuralizeError(f"unknown genre {genre!r}; {hint}the model knows: {', '.join(genres)}, or 'all'")


def _dream(genre, checkpoint, out, objective, param, seconds, steps, lr, init, layer, unit, rule, class_weight,
           l2, tv_time, tv_freq, no_clamp, jitter, noise, iters, data_dir, seed, quiet):
    import time

    import torch

    from . import default_checkpoint
    from .audible import make_audible
    from .checkpoint import load_model
    from .dream import Regularisers, n_frames
    from .features import load_audio
    from .io import ensure_writable
    from .neurons import load_report

    started = time.time()
    if seconds <= 0:
        raise AuralizeError(f"--seconds must be positive (at least 5 for one clip); got {seconds:g}")
    n_frames(seconds)
    if steps < 1:
        raise AuralizeError("--steps must be at least 1")
    torch.manual_seed(seed)
    checkpoint = checkpoint or default_checkpoint("lstm")
    model = load_model(checkpoint)
    genres = _pick_genres(genre, model.genres)
    if len(genres) == 1:
        wav = out or Path(f"quintessential-{genres[0]}.wav")
        if wav.suffix.lower() != ".wav":
            wav = wav.with_suffix(".wav") if not wav.is_dir() else wav / f"quintessential-{genres[0]}.wav"
        stems = [wav.with_suffix("")]
    else:
        folder = out or Path("quintessential")
        stems = [folder / g for g in genres]
    for folder in {stem.parent for stem in stems}:
        ensure_writable(folder)
    start = init if init in ("noise", "silence") else load_audio(init)
    report = load_report(checkpoint, layer) if objective == "neuron" and unit is None else None
    real = _real_clips(data_dir, genres) if data_dir else None
    reg = Regularisers(l2=l2, tv_time=tv_time, tv_freq=tv_freq, clamp=not no_clamp, jitter=jitter, noise=noise)
    summaries = make_audible(model, genres, stems, objective=objective, param=param, seconds=seconds, steps=steps,
                             lr=lr, init=start, regularisers=reg, seed=seed, report=report, layer=layer, unit=unit,
                             rule=rule, class_weight=class_weight, griffin_lim_iters=iters, real_psd=real,
                             progress=not quiet)
    for s in summaries:
        trip = s["round_trip"]
        click.echo(f"{s['genre']}: {s['files']['wav']}  objective {s['objective']}: "
                   f"{s['objective_start']:.3f} -> {s['objective_end']:.3f}; round trip p({s['genre']}) = "
                   f"{trip['p_target_mean']:.3f} (heard as {trip['verdict']})")
    first = Path(summaries[0]["files"]["wav"])
    click.echo(f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/ "
               f"[{first.stem}.wav, -22050.wav, .png, .json, .npy]" if len(summaries) == 1 else
               f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/<genre>.wav, .png, .json, .npy")


def _real_clips(data_dir: Path, genres: list[str]) -> dict:
    """One real clip's PSD per genre (the first track of the genre, middle clip)."""
    from .data import discover, track_psd, default_cache_dir

    tracks, _ = discover(data_dir)
    real = {}
    for g in genres:
        mine = [t for t in tracks if t.genre == g]
        if mine:
            try:
                psd = track_psd(mine[0].path, default_cache_dir())
                real[g] = psd[len(psd) // 2]
            except AuralizeError as exc:
                click.echo(f"warning: {exc}", err=True)
    return real


@cli.command("train")
@click.option("--model", "kind", type=click.Choice(["rnn", "lstm", "attention", "mlp", "svm", "softmax"]), required=True,
              help="Which of the paper's six models.")
@DATA
@SPLIT
@click.option("--hidden", type=int, default=0, help="Hidden units (default: the paper's best for the model).")
@click.option("--layers", type=int, default=0, help="Recurrent layers (default: 2).")
@click.option("--epochs", type=int, default=None, help="Maximum epochs (default 60; early stopping after --patience).")
@click.option("--patience", type=int, default=20, show_default=True, help="Stop after this many epochs without validation gain.")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None, help="adam (default) or sgd (the paper's, with --lr 1.0).")
@click.option("--lr", type=float, default=None, help="Learning rate (default 1e-3 for adam).")
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--dropout", type=float, default=0.2, show_default=True)
@click.option("--weight-decay", type=float, default=0.0, show_default=True, help="L2 penalty on the weights.")
@click.option("--compression", type=click.Choice(["log", "none"]), default="log", show_default=True,
              help="log: log PSD; none: the paper's raw PSD.")
@click.option("--input-norm", type=click.Choice(["level", "none"]), default="level", show_default=True,
              help="level: the model removes each clip's mean log level first (generalises across artists).")
@click.option("--norm", type=click.Choice(["bin", "global"]), default="bin", show_default=True,
              help="Normalise each frequency bin (bin) or with one scalar mean and std (global, the authors').")
@click.option("--variant", type=click.Choice(["paper", "authors"]), default="paper", show_default=True,
              help="paper: the equations; authors: the departures of the authors' code.")
@click.option("--no-augment", is_flag=True, help="Turn off random gain and time/frequency masks.")
@click.option("--robust", type=click.Choice(["none", "noise", "pgd"]), default="none", show_default=True,
              help="Robust training: Gaussian noise or an L2 PGD adversary on each batch's input.")
@click.option("--robust-eps", type=Finite(lo=0), default=0.05, show_default=True,
              help="Size of the --robust perturbation, RMS per input element (input is normalised per bin).")
@click.option("--init-from", type=click.Path(path_type=Path), default=None,
              help="Start from this checkpoint's weights (same model and split): fine-tuning.")
@GENRES_OPT
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Checkpoint path (default runs/<model>-<split>-seed<seed>.pt).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from <out>.resume.pt.")
@SEED
@QUIET
def train_cmd(kind, data_dir, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
              weight_decay, compression, input_norm, norm, variant, no_augment, robust, robust_eps, init_from,
              genres, out, resume, seed, quiet):
    """Train one model and save its best checkpoint."""
    from .training import TrainSettings, train

    data = _load_data(data_dir, quiet, genres)
    out = out or Path("runs") / f"{kind}-{split}-seed{seed}.pt"
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, patience=patience,
                             weight_decay=weight_decay, augment=not no_augment, robust=robust,
                             robust_eps=robust_eps if robust != "none" else 0.0,
                             init_from=str(init_from) if init_from else None)
    command = "auralize " + " ".join(sys.argv[1:])
    result = train(kind, data, split, hidden=hidden, layers=layers, variant=variant, dropout=dropout,
                   compression=compression, per_bin=norm == "bin", input_norm=input_norm, settings=settings,
                   seed=seed, out=out, resume=resume,
                   progress=not quiet, log=lambda m: click.echo(m, err=True), meta={"command": command})
    click.echo(f"saved {result.path} (coverage: {result.model.meta['coverage']})")


@cli.command("evaluate")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@DATA
@SPLIT
@click.option("--part", type=click.Choice(["train", "valid", "test"]), default="test", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the confusion-matrix PNG and JSON (default: beside the checkpoint).")
@click.option("--seed", type=int, default=None,
              help="Seed of the track split (default: the one the checkpoint was trained with).")
@QUIET
def evaluate_cmd(checkpoint, data_dir, split, part, out, seed, quiet):
    """Clip and track accuracy, per genre, and a confusion matrix of a checkpoint."""
    from .checkpoint import load_model
    from .data import GENRES
    from .evaluation import evaluate
    from .io import atomic_write_text
    from .plots import confusion_figure

    model = load_model(checkpoint)
    data = _load_data(data_dir, quiet, ",".join(model.genres) if set(model.genres) != set(GENRES) else None)
    ev = evaluate(model, data, split, part, seed=seed)
    out = out or checkpoint.parent
    stem = f"{checkpoint.stem}-{split}-{part}"
    png = confusion_figure(ev.clip_confusion, ev.genres, out / f"{stem}-confusion.png",
                           f"{checkpoint.name}: {split} split, {part} clips (acc {ev.clip_accuracy:.3f})")
    atomic_write_text(out / f"{stem}.json", json.dumps(ev.to_dict(), indent=1))
    click.echo(ev.coverage)
    click.echo(f"{part}: {ev.n_clips} clips, {ev.n_tracks} tracks")
    click.echo(f"clip accuracy  {ev.clip_accuracy:.3f}")
    click.echo(f"track accuracy {ev.track_accuracy:.3f}")
    click.echo(ev.table())
    click.echo(f"confusion matrix: {png}")


@cli.command("reproduce")
@DATA
@click.option("--split", type=click.Choice(["clip", "filtered", "track"]), default="filtered", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/results"), show_default=True)
@click.option("--models", default="svm,softmax,mlp,rnn,lstm,attention", show_default=True,
              help="Comma-separated subset of the six models.")
@click.option("--epochs", type=int, default=None, help="Maximum epochs of the neural models.")
@click.option("--input-norm", type=click.Choice(["level", "none"]), default="level", show_default=True,
              help="level: every model removes each clip's mean log level first.")
@GENRES_OPT
@SEED
@QUIET
def reproduce_cmd(data_dir, split, out, models, epochs, input_norm, genres, seed, quiet):
    """Train and evaluate all six of the paper's models; write a table beside the paper's."""
    from .models import ALL_MODELS
    from .reproduce import reproduce

    kinds = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in kinds if m not in ALL_MODELS]
    if unknown:
        raise AuralizeError(f"unknown model {unknown[0]!r}; choose from {', '.join(ALL_MODELS)}")
    data = _load_data(data_dir, quiet, genres)
    name = split if not genres else f"{split}-{len(data.genres)}genres"
    table = reproduce(data, split, out, models=kinds, seed=seed, epochs=epochs, progress=not quiet,
                      log=lambda m: click.echo(m, err=True), name=name, input_norm=input_norm)
    click.echo(table.read_text())
    click.echo(f"written: {table}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and ``python -m auralize``."""
    cli.main(args=argv, prog_name="auralize")


@cli.command("neurons")
@CHECKPOINT
@DATA
@click.option("--layer", "layers", multiple=True,
              help="State to analyse (repeatable; default: the top layer and the first layer).")
@click.option("--rule", type=click.Choice(["last", "mean", "max"]), default="mean", show_default=True,
              help="Timestep rule: how a unit's activation over the 22 frames becomes one number.")
@click.option("--quantile", type=float, default=0.9, show_default=True,
              help="Active = above this quantile of the unit's own activations over all clips.")
@click.option("-k", "--top", "k", type=int, default=5, show_default=True, help="Neurons listed per genre.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the heatmap PNG (default: beside the checkpoint).")
@SEED
@QUIET
def neurons_cmd(checkpoint, data_dir, layers, rule, quantile, k, out, seed, quiet):
    """Per genre, the neurons most commonly active on the clips the model predicts as that genre.

    Saves <checkpoint>.neurons.json (read by 'auralize --genre' and 'auralize weights') and a
    genres x neurons heatmap PNG per layer.
    """
    from .checkpoint import load_model
    from .neurons import default_layer, input_layer, save_reports, top_neurons
    from .plots import heatmap

    model = load_model(checkpoint)
    data = _load_data(data_dir, quiet)
    x = model.scaler.transform(data.psd).astype("float32")
    layers = list(layers) or list(dict.fromkeys([default_layer(model), input_layer(model)]))
    reports = [top_neurons(model, x, layer, rule, quantile, k) for layer in layers]
    path = save_reports(checkpoint, reports)
    out = out or checkpoint.parent
    for r in reports:
        png = heatmap(r, out / f"{checkpoint.stem}.neurons-{r.layer}.png")
        click.echo(f"layer {r.layer} (rule {r.rule}, active above the unit's {r.quantile:.0%} quantile):")
        for g, n in zip(r.genres, r.n_clips):
            top = r.top(g, k)
            listed = ", ".join(f"{t['unit']} ({t['active_rate']:.0%}, mean {t['mean_activation']:+.2f})" for t in top)
            click.echo(f"  {g:10s} {int(n):5d} clips: {listed or 'no clip predicted'}")
        click.echo(f"  heatmap: {png}")
    click.echo(f"saved {path}")


@cli.command("invert")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None, help="WAV path (default: SPEC with .wav).")
@click.option("--iters", type=int, default=100, show_default=True, help="Griffin-Lim iterations.")
@SEED
def invert_cmd(spec, out, iters, seed):
    """Griffin-Lim: turn a saved spectrogram (.npy PSD, frames x 513) into a 4 kHz WAV."""
    import numpy as np

    from .features import N_BINS, SAMPLE_RATE
    from .invert import psd_to_audio, spectral_convergence
    from .features import psd_to_magnitude
    from .io import save_wav

    if not spec.is_file():
        raise AuralizeError(f"spectrogram not found: {spec}; give a .npy file written by auralize")
    try:
        psd = np.load(spec, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise AuralizeError(f"{spec} is not a .npy array ({exc}); give a .npy file written by auralize") from exc
    if psd.ndim != 2 or psd.shape[1] != N_BINS or psd.shape[0] < 1 or not np.all(np.isfinite(psd)) or (psd < 0).any():
        raise AuralizeError(f"{spec} holds an array of shape {psd.shape}; expected a non-negative PSD of "
                            f"frames x {N_BINS}")
    audio = np.asarray(psd_to_audio(psd.astype(np.float64), n_iter=iters, seed=seed))
    wav = save_wav(out or spec.with_suffix(".wav"), audio, SAMPLE_RATE)
    import torch

    sc = float(spectral_convergence(torch.from_numpy(audio), torch.from_numpy(psd_to_magnitude(psd))))
    click.echo(f"wrote {wav} ({len(audio) / SAMPLE_RATE:.2f} s); spectral convergence on the analysis grid {sc:.4f}")


@cli.command("weights")
@CHECKPOINT
@click.option("--neurons", "units", default=None, help="Comma-separated first-layer units (default: each genre's top).")
@click.option("--gate", type=click.Choice(["i", "f", "o", "g", "all"]), default="g", show_default=True,
              help="LSTM gate whose weight rows to render (g: what the cell writes).")
@click.option("--seconds", type=float, default=3.0, show_default=True)
@click.option("--contrast", type=float, default=3.0, show_default=True,
              help="Strongest weight mapped to this many standard deviations from the average spectrum.")
@click.option("--iters", type=int, default=100, show_default=True, help="Griffin-Lim iterations.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("weights"), show_default=True)
@SEED
def weights_cmd(checkpoint, units, gate, seconds, contrast, iters, out, seed):
    """Render first-layer units' input-weight rows (513-bin spectral profiles) as sustained sounds."""
    import json

    import numpy as np

    from .checkpoint import load_model
    from .features import SAMPLE_RATE
    from .io import atomic_save_npy, atomic_write_text, save_wav
    from .neurons import input_layer, load_report
    from .weights import render_units

    model = load_model(checkpoint)
    if seconds < 1:
        raise AuralizeError("--seconds must be at least 1")
    owners: dict[int, list[str]] = {}
    if units:
        try:
            chosen = [int(u) for u in units.split(",") if u.strip()]
        except ValueError:
            raise AuralizeError(f"--neurons takes comma-separated integers, got {units!r}") from None
    else:
        report = load_report(checkpoint, input_layer(model))
        if report is None:
            raise AuralizeError(f"no neuron statistics for {input_layer(model)} beside {checkpoint}; run 'auralize "
                                "neurons CHECKPOINT --data DIR' first or give --neurons")
        chosen = []
        for g in report.genres:
            for t in report.top(g, 1):
                owners.setdefault(t["unit"], []).append(g)
                chosen.append(t["unit"]) if t["unit"] not in chosen else None
    gates = ["i", "f", "o", "g"] if gate == "all" and model.config.kind in ("lstm", "attention") else [gate]
    index = []
    for gt in gates:
        audio, psd = render_units(model, chosen, gt, seconds, contrast, iters, seed)
        for u, a, p in zip(chosen, audio, psd):
            stem = out / (f"unit{u:03d}-{gt}" if model.config.kind in ("lstm", "attention") else f"unit{u:03d}")
            save_wav(stem.with_suffix(".wav"), a, SAMPLE_RATE)
            atomic_save_npy(stem.with_suffix(".npy"), p.astype(np.float32))
            index.append({"unit": u, "gate": gt, "top_of": owners.get(u, []), "wav": str(stem.with_suffix(".wav"))})
            click.echo(f"unit {u} gate {gt}{' (top of ' + ', '.join(owners[u]) + ')' if owners.get(u) else ''}: "
                       f"{stem.with_suffix('.wav')}")
    atomic_write_text(out / "weights.json", json.dumps({"checkpoint": str(checkpoint), "contrast": contrast,
                                                        "units": index}, indent=1))


@cli.command("info")
@CHECKPOINT
@NO_RANDOMNESS_SEED
def info_cmd(checkpoint):
    """What a checkpoint is: model, genres, front end, split and how it was trained."""
    from .checkpoint import load_model
    from .models import RECURRENT, state_names
    from .neurons import neurons_path

    model = load_model(checkpoint)
    cfg, meta = model.config, model.meta
    size = {"mlp": f" ({cfg.hidden} hidden units)", "svm": "", "softmax": ""}.get(cfg.kind, f" {cfg.layers}x{cfg.hidden}")
    click.echo(f"{checkpoint}: {cfg.kind}{size}")
    click.echo(f"  variant {cfg.variant}, input normalisation {cfg.input_norm}, dropout {cfg.dropout}")
    click.echo(f"  genres: {', '.join(model.genres)}")
    click.echo(f"  input: compression {model.scaler.compression}, {'per-bin' if model.scaler.per_bin else 'global'} "
               "mean and std of the training clips")
    if meta:
        click.echo(f"  split: {meta.get('coverage', meta.get('split', '?'))}")
        click.echo(f"  best epoch {meta.get('best_epoch')}, validation clip accuracy {meta.get('best_valid_acc', 0):.3f}")
        click.echo(f"  made by: {meta.get('command', '?')}")
    path = neurons_path(checkpoint)
    click.echo(f"  neuron statistics: {path if path.exists() else 'none (run auralize neurons)'}")
    if cfg.kind in RECURRENT or cfg.kind == "mlp":
        click.echo(f"  states: {', '.join(state_names(model))}")


@cli.command("predict")
@click.argument("songs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model (default: the shipped trained/lstm.pt).")
@click.option("--clips", is_flag=True, help="Also list every 5-s clip's genre.")
@NO_RANDOMNESS_SEED
def predict_cmd(songs, checkpoint, clips):
    """Classify songs: the genre of each (a vote of its 5-s clips) and its probability."""
    from . import default_checkpoint
    from .checkpoint import load_model
    from .evaluation import predict

    model = load_model(checkpoint or default_checkpoint("lstm"))
    for song in songs:
        pred = predict(model, song)
        share = float(pred.probabilities.mean(0)[model.genres.index(pred.genre)])
        click.echo(f"{song}: {pred.genre} (mean p {share:.3f} over {len(pred.probabilities)} clips)")
        if clips:
            for i, p in enumerate(pred.probabilities):
                top = int(p.argmax())
                click.echo(f"  clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {model.genres[top]:10s} {p[top]:.3f}")


@cli.command("explain")
@click.argument("song", type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model to explain (default: the shipped trained/lstm.pt).")
@click.option("--method", default="ig", show_default=True, help="ig (Integrated Gradients vs silence) or saliency.")
@click.option("--noise-tunnel", is_flag=True, help="Average attributions over noisy copies (SmoothGrad).")
@click.option("--target", default=None, help="Genre to explain (default: the song's verdict).")
@click.option("--steps", type=int, default=64, show_default=True, help="Integrated Gradients steps.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the results (default: explain-<song name>/).")
@SEED
@QUIET
def explain_cmd(song, checkpoint, method, noise_tunnel, target, steps, out, seed, quiet):
    """Per-clip genre probabilities, attributions over the spectrogram, and what the model listened to."""
    import json

    import numpy as np

    from . import default_checkpoint
    from .checkpoint import load_model
    from .explain import explain, listened, method_name
    from .plots import explanation_figure
    from .features import SAMPLE_RATE, load_audio, resample
    from .io import atomic_save_npy, atomic_write_text, ensure_writable, save_wav

    method_name(method)  # an unknown method fails before any work
    model = load_model(checkpoint or default_checkpoint("lstm"))
    if target is not None:
        target = _pick_genres(target, model.genres)[0] if target != "all" else None
    out = out or Path(f"explain-{song.stem}")
    ensure_writable(out)
    audio = load_audio(song)
    exp = explain(model, audio, method, target, noise_tunnel, steps, seed=seed, progress=not quiet, name=str(song))
    explanation_figure(exp, out / "explain.png", f"{song.name}: verdict {exp.verdict} ({exp.method}, "
                                      f"explaining {exp.genres[int(exp.target[0])]})")
    heard = listened(audio, exp.attributions)
    save_wav(out / "listened.wav", heard, SAMPLE_RATE)
    save_wav(out / "listened-22050.wav", resample(heard, SAMPLE_RATE, 22050), 22050)
    atomic_save_npy(out / "attributions.npy", exp.attributions.astype(np.float32))
    summary = {
        "song": str(song), "checkpoint": str(model.path), "genres": list(exp.genres), "verdict": exp.verdict,
        "target": exp.genres[int(exp.target[0])], "method": exp.method, "seed": seed,
        "clip_probabilities": np.round(exp.probabilities, 4).tolist(),
        "attention": None if exp.attention is None else np.round(exp.attention, 4).tolist(),
        "files": {"png": "explain.png", "wav": "listened.wav", "wav_22050": "listened-22050.wav",
                  "attributions": "attributions.npy", "attention_png": None},
    }
    atomic_write_text(out / "explain.json", json.dumps(summary, indent=1))
    for i, p in enumerate(exp.probabilities):
        top = int(np.argmax(p))
        click.echo(f"clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {exp.genres[top]:10s} {p[top]:.3f}")
    click.echo(f"verdict: {exp.verdict}")
    click.echo(f"files: {out}/ [explain.png, listened.wav, listened-22050.wav, attributions.npy, explain.json]")


@cli.command("gallery")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="HTML path (default: RESULTS_DIR/index.html).")
@click.option("--neurons", "neurons", type=click.Path(path_type=Path), multiple=True,
              help="A checkpoint's .neurons.json to include (repeatable).")
@NO_RANDOMNESS_SEED
def gallery_cmd(results_dir, out, neurons):
    """One self-contained HTML page to listen to dreams and explanations in a folder."""
    from .gallery import write_gallery

    for n in neurons:
        if not n.is_file():
            raise AuralizeError(f"neuron statistics not found: {n}; run 'auralize neurons' first")
    page = write_gallery(results_dir, out, neurons=list(neurons) or None)
    click.echo(f"wrote {page}")


@cli.command("train-judge")
@click.argument("name", metavar="NAME")
@DATA
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the judge (default trained/panel/<NAME>.<npz|pt>); its model card goes beside it.")
@click.option("--split-seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the track split (0: the shipped checkpoints' split, whose test part stays held out).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Training seed (default 1 for lstm-seed1, else 0).")
@QUIET
def train_judge_cmd(name, data_dir, out, split_seed, seed, quiet):
    """Train a judge of the held-out listening panel (features, cnn, lstm-seed1)."""
    from .panel import train_judge

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    trained = train_judge(name, data_dir, out, seed=seed, split_seed=split_seed,
                          command="auralize " + " ".join(sys.argv[1:]), log=log)
    for score in trained.scores:
        click.echo("\n".join(score.lines()))
    click.echo(f"saved {trained.path} and {trained.card}")


@cli.command("judge")
@click.argument("wavs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="WAV...")
@click.option("--judges", default=None, help="Comma-separated judges (default: the whole panel).")
@click.option("--genre", default=None, help="Target genre: print each judge's p(genre) and whether the panel hears it.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@NO_RANDOMNESS_SEED
def judge_cmd(wavs, judges, genre, as_json):
    """What the held-out listening panel hears in audio: each judge's verdict and p(genre)."""
    from .panel import judge

    verdicts = judge(list(wavs), judges=judges, genre=genre.lower() if genre else None)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in verdicts], indent=1))
        return
    for v in verdicts:
        click.echo(v.summary())
