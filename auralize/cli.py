"""The ``auralize`` command: a thin layer over the Python API."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli_options import (CHECKPOINT, DATA, GENRES_OPT, NO_RANDOMNESS_SEED, QUIET, SEED, SEED_TYPE, SPLIT,
                          AuralizeGroup, Finite, LazyChoice, echo_warnings, out_option)
from .errors import AuralizeError

def _load_data(data_dir: Path, quiet: bool, genres: str | None = None):
    from .data import load_dataset

    wanted = None
    if genres is not None:
        wanted = [g.strip().lower() for g in genres.split(",") if g.strip()]
        if not wanted:
            raise click.BadParameter(f"{genres!r} names no genre; give comma-separated names", param_hint="'--genres'")
    with echo_warnings():
        data = load_dataset(data_dir, progress=not quiet)
    if wanted:
        data = data.only(wanted)
    click.echo(data.summary(), err=True)
    return data


def _param_names() -> list[str]:
    from .dream.params import PARAMS

    return list(PARAMS)


def _model_names() -> list[str]:
    from .models import model_names

    return model_names()


@click.group(cls=AuralizeGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--genre", default=None, help="Genre to make audible (or 'all'): 'auralize --genre jazz'.")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model to dream with (default: the shipped trained/lstm.pt).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="WAV path for one genre (default quintessential-<genre>.wav; an existing folder: written into "
                   "it); folder for --genre all (default quintessential/).")
@click.option("--objective", type=click.Choice(["neuron", "class", "logit"]), default="neuron", show_default=True,
              help="neuron: the genre's most commonly active neuron (the paper's); class: its log-probability.")
@click.option("--param", type=LazyChoice(_param_names), default="spectrogram", show_default=True,
              help="Optimise the 22x513 input (then Griffin-Lim) or the samples through the front end.")
@click.option("--seconds", type=Finite(lo=5, hi=600), default=5.0, show_default=True,
              help="Length of the dream, 5 s to 10 minutes; every 5-s window serves the objective.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=150, show_default=True, help="Gradient-ascent steps.")
@click.option("--lr", type=Finite(lo=0, lo_open=True, hi=10), default=None,
              help="Adam learning rate (default 0.1 spectrogram, 0.005 waveform).")
@click.option("--init", default="noise", show_default=True, help="noise, silence, or an audio file to start from.")
@click.option("--layer", default=None, help="Neuron objective: state name (default: the saved statistics' layer).")
@click.option("--unit", type=click.IntRange(0), default=None,
              help="Neuron objective: unit index (default: the genre's top neuron).")
@click.option("--rule", type=click.Choice(["last", "mean", "max"]), default="mean", show_default=True,
              help="Neuron objective: how the unit's activation is reduced over frames.")
@click.option("--class-weight", type=Finite(lo=-1e3, hi=1e3), default=1.0, show_default=True,
              help="Neuron objective: weight of the genre's log-probability added to it (0: pure neuron).")
@click.option("--l2", type=Finite(lo=0, hi=1e3), default=0.01, show_default=True, help="Pull towards the average spectrum.")
@click.option("--tv-time", type=Finite(lo=0, hi=1e3), default=0.05, show_default=True, help="Total variation along time.")
@click.option("--tv-freq", type=Finite(lo=0, hi=1e3), default=0.05, show_default=True,
              help="Total variation along frequency.")
@click.option("--no-clamp", is_flag=True, help="Do not keep the input within the range of real inputs.")
@click.option("--jitter", type=click.IntRange(0, 22), default=1, show_default=True,
              help="Random time shift of the windows, in frames (at most 22, one clip).")
@click.option("--noise", type=Finite(lo=0, hi=10), default=0.1, show_default=True,
              help="Random input noise (spectrogram) or gain jitter and dither (waveform) each step.")
@click.option("--transforms", default="", help="Extra robustness transforms each step, comma-separated: "
              "shift, gain, noise, freq-shift, time-mask, freq-mask (see auralize.TRANSFORMS).")
@click.option("--iters", type=click.IntRange(0, 100_000), default=100, show_default=True,
              help="Griffin-Lim iterations (spectrogram dreams).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Optional data folder: a real clip of the genre is drawn beside the dream.")
@click.option("--no-panel", is_flag=True, help="Do not judge the dreams with the held-out listening panel.")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Threads for every command (default: 1 for the dream loop, Griffin-Lim and per-clip inference, "
                   "torch's own elsewhere; AURALIZE_THREADS or OMP_NUM_THREADS set it too).")
@SEED
@QUIET
@click.version_option(package_name="auralize")
@click.pass_context
def cli(ctx: click.Context, genre, checkpoint, out, data_dir, threads, seed, quiet, **options) -> None:
    """auralize: train recurrent genre classifiers and make what they learned audible.

    Without a command, 'auralize --genre jazz' dreams the quintessential jazz of the shipped LSTM
    and writes quintessential-jazz.wav (plus -22050.wav, .png, .json and .npy beside it).
    """
    from . import threads as thread_policy

    thread_policy.use(threads)
    if ctx.invoked_subcommand is not None:
        return
    if genre is None:
        click.echo(ctx.get_help())
        return
    _dream(genre, checkpoint, out, data_dir, seed, quiet, options)


def _dream(genre, checkpoint, out, data_dir, seed, quiet, o: dict) -> None:
    import time

    from .dream import DreamSettings, Target, make_audible
    from .results import panel_line

    started = time.time()
    target = Target(o["objective"], o["layer"], o["unit"], o["rule"], o["class_weight"])
    settings = DreamSettings(param=o["param"], seconds=o["seconds"], steps=o["steps"], lr=o["lr"], init=o["init"],
                             l2=o["l2"], tv_time=o["tv_time"], tv_freq=o["tv_freq"], clamp=not o["no_clamp"],
                             jitter=o["jitter"], noise=o["noise"],
                             transforms=tuple(t.strip() for t in o["transforms"].split(",") if t.strip()),
                             griffin_lim_iters=o["iters"], seed=seed)
    with echo_warnings():
        summaries = make_audible(checkpoint, genre, out, target=target, settings=settings, data_dir=data_dir,
                                 panel=not o["no_panel"], progress=not quiet)
    for s in summaries:
        trip = s["round_trip"]
        click.echo(f"{s['genre']}: {s['files']['wav']}  objective {s['objective']}: "
                   f"{s['objective_start']:.3f} -> {s['objective_end']:.3f}")
        click.echo(f"  {panel_line(s.get('panel'), s['genre'])}; same-model round trip p({s['genre']}) = "
                   f"{trip['p_target_mean']:.3f} (heard as {trip['verdict']})")
    first = Path(summaries[0]["files"]["wav"])
    click.echo(f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/ "
               f"[{first.stem}.wav, -22050.wav, .png, .json, .npy]" if len(summaries) == 1 else
               f"files ({time.time() - started:.1f} s): {first.parent.resolve()}/<genre>.wav, .png, .json, .npy")


@cli.command("train")
@click.option("--model", "kind", type=LazyChoice(_model_names), required=True, help="Which model kind (the model registry).")
@DATA
@SPLIT
@click.option("--hidden", type=click.IntRange(0, 4096), default=0, help="Hidden units (default: the paper's best for the model).")
@click.option("--layers", type=click.IntRange(0, 16), default=0, help="Recurrent layers (default: 2).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Maximum epochs (default 60; early stopping after --patience).")
@click.option("--patience", type=click.IntRange(min=1), default=20, show_default=True, help="Stop after this many epochs without validation gain.")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None, help="adam (default) or sgd (the paper's, with --lr 1.0).")
@click.option("--lr", type=Finite(lo=0, lo_open=True), default=None, help="Learning rate (default 1e-3 for adam).")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--dropout", type=Finite(lo=0, hi=1, hi_open=True), default=0.2, show_default=True)
@click.option("--weight-decay", type=Finite(lo=0), default=0.0, show_default=True, help="L2 penalty on the weights.")
@click.option("--compression", type=click.Choice(["log", "none"]), default="log", show_default=True,
              help="log: log PSD; none: the paper's raw PSD.")
@click.option("--input-norm", type=click.Choice(["level", "none"]), default="level", show_default=True,
              help="level: the model removes each clip's mean log level first (generalises across artists).")
@click.option("--norm", type=click.Choice(["bin", "global"]), default="bin", show_default=True,
              help="Normalise each frequency bin (bin) or with one scalar mean and std (global, the authors').")
@click.option("--variant", type=click.Choice(["paper", "authors"]), default="paper", show_default=True,
              help="paper: the equations; authors: the departures of the authors' code.")
@click.option("--no-augment", is_flag=True, help="Turn off random gain and time/frequency masks.")
@GENRES_OPT
@out_option("Checkpoint path (default runs/<model>-<split>-seed<seed>.pt).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from <out>.resume.pt.")
@SEED
@click.option("--split-seed", type=SEED_TYPE, default=None,
              help="Seed of the track split (default: --seed), to train other initialisations on one split.")
@QUIET
def train_cmd(kind, data_dir, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
              weight_decay, compression, input_norm, norm, variant, no_augment, genres, out, resume, seed,
              split_seed, quiet):
    """Train one model and save its best checkpoint."""
    from .training import TrainSettings, check_out, train

    out = check_out(out or Path("runs") / f"{kind}-{split}-seed{seed}.pt")
    data = _load_data(data_dir, quiet, genres)
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, patience=patience,
                             weight_decay=weight_decay, augment=not no_augment)
    command = "auralize " + " ".join(sys.argv[1:])
    try:
        result = train(kind, data, split, hidden=hidden, layers=layers, variant=variant, dropout=dropout,
                       compression=compression, per_bin=norm == "bin", input_norm=input_norm, settings=settings,
                       seed=seed, split_seed=split_seed, out=out, resume=resume,
                       progress=not quiet, log=lambda m: click.echo(m, err=True), meta={"command": command})
    except KeyboardInterrupt:
        saved = out.with_suffix(".resume.pt")
        hint = (f"rerun the same command with --resume to continue from {saved}" if saved.exists()
                else "no epoch had finished, nothing to resume")
        click.echo(f"auralize: interrupted; {hint}", err=True)
        sys.exit(130)
    click.echo(f"saved {result.path} (coverage: {result.model.meta['coverage']})")


@cli.command("evaluate")
@CHECKPOINT
@DATA
@SPLIT
@click.option("--part", type=click.Choice(["train", "valid", "test"]), default="test", show_default=True)
@out_option("Folder for the confusion-matrix PNG and JSON (default: beside the checkpoint).")
@click.option("--seed", type=SEED_TYPE, default=None,
              help="Seed of the track split (default: the one the checkpoint was trained with).")
@QUIET
def evaluate_cmd(checkpoint, data_dir, split, part, out, seed, quiet):
    """Clip and track accuracy, per genre, and a confusion matrix of a checkpoint."""
    from .checkpoint import load_model
    from .data import GENRES
    from .evaluation import evaluate

    model = load_model(checkpoint)
    data = _load_data(data_dir, quiet, ",".join(model.genres) if set(model.genres) != set(GENRES) else None)
    ev = evaluate(model, data, split, part, seed=seed)
    png, _ = ev.save(out or checkpoint.parent, f"{checkpoint.stem}-{split}-{part}",
                     f"{checkpoint.name}: {split} split, {part} clips (acc {ev.clip_accuracy:.3f})")
    click.echo(ev.coverage)
    click.echo(f"{part}: {ev.n_clips} clips, {ev.n_tracks} tracks")
    click.echo(f"clip accuracy  {ev.clip_accuracy:.3f}")
    click.echo(f"track accuracy {ev.track_accuracy:.3f}")
    click.echo(ev.table())
    click.echo(f"confusion matrix: {png}")


@cli.command("reproduce")
@DATA
@click.option("--split", type=click.Choice(["clip", "filtered", "track"]), default="filtered", show_default=True)
@out_option("Folder for the tables, figures and checkpoints.", default=Path("docs/results"))
@click.option("--models", default=None, help="Comma-separated model kinds (default: all registered: the paper's six).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Maximum epochs of the neural models.")
@click.option("--input-norm", type=click.Choice(["level", "none"]), default="level", show_default=True,
              help="level: every model removes each clip's mean log level first.")
@GENRES_OPT
@SEED
@QUIET
def reproduce_cmd(data_dir, split, out, models, epochs, input_norm, genres, seed, quiet):
    """Train and evaluate all six of the paper's models; write a table beside the paper's."""
    from .models import model_kind
    from .reproduce import reproduce

    kinds = None if models is None else [model_kind(m.strip()).name for m in models.split(",") if m.strip()]
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
@click.option("--quantile", type=Finite(lo=0, hi=1, lo_open=True, hi_open=True), default=0.9, show_default=True,
              help="Active = above this quantile of the unit's own activations over all clips.")
@click.option("-k", "--top", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Neurons listed per genre.")
@out_option("Folder for the heatmap PNG (default: beside the checkpoint).")
@SEED
@QUIET
def neurons_cmd(checkpoint, data_dir, layers, rule, quantile, k, out, seed, quiet):
    """Per genre, the neurons most commonly active on the clips the model predicts as that genre.

    Saves <checkpoint>.neurons.json (read by 'auralize --genre' and 'auralize weights') and a
    genres x neurons heatmap PNG per layer.
    """
    from .checkpoint import load_model
    from .neurons import save_reports, top_neurons
    from .plots import heatmap

    model = load_model(checkpoint)
    layers = list(layers) or [n for n in dict.fromkeys([model.default_layer(), model.input_layer]) if n]
    for layer in layers:
        model.check_layer(layer)  # before reading any data
    data = _load_data(data_dir, quiet)
    x = model.scaler.transform(data.psd).astype("float32")
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
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="WAV path, or a folder to write <SPEC name>.wav into (default: SPEC with .wav).")
@click.option("--iters", type=click.IntRange(0, 100_000), default=100, show_default=True,
              help="Griffin-Lim iterations.")
@SEED
def invert_cmd(spec, out, iters, seed):
    """Griffin-Lim: turn a saved spectrogram (.npy PSD, frames x 513) into a 4 kHz WAV."""
    from .invert import invert_file

    done = invert_file(spec, out, n_iter=iters, seed=seed)
    click.echo(f"wrote {done['wav']} ({done['seconds']:.2f} s); spectral convergence on the analysis grid "
               f"{done['spectral_convergence']:.4f}")


def _unit_list(ctx, param, value):
    if value is None:
        return None
    try:
        units = [int(u) for u in value.split(",") if u.strip()]
    except ValueError:
        units = []
    if not units or any(u < 0 for u in units):
        raise click.BadParameter(f"{value!r} is not a comma-separated list of unit numbers (e.g. 3,17)")
    return units


@cli.command("weights")
@CHECKPOINT
@click.option("--neurons", "units", default=None, callback=_unit_list,
              help="Comma-separated first-layer units (default: each genre's top).")
@click.option("--gate", type=click.Choice(["i", "f", "o", "g", "all"]), default="g", show_default=True,
              help="LSTM gate whose weight rows to render (g: what the cell writes).")
@click.option("--seconds", type=Finite(lo=1, hi=600), default=3.0, show_default=True)
@click.option("--contrast", type=Finite(lo=0, lo_open=True), default=3.0, show_default=True,
              help="Strongest weight mapped to this many standard deviations from the average spectrum.")
@click.option("--iters", type=click.IntRange(1, 10000), default=100, show_default=True, help="Griffin-Lim iterations.")
@out_option("Folder for the WAVs, PSDs and weights.json.", default=Path("weights"))
@SEED
def weights_cmd(checkpoint, units, gate, seconds, contrast, iters, out, seed):
    """Render first-layer units' input-weight rows (513-bin spectral profiles) as sustained sounds."""
    from .checkpoint import load_model
    from .neurons import load_report
    from .weights import save_units, top_units

    model = load_model(checkpoint)
    owners: dict[int, list[str]] = {}
    if units is None:
        layer = model.weight_rows()[1]  # the state the rows feed (a model without them says so here)
        report = load_report(checkpoint, layer)
        if report is None:
            raise AuralizeError(f"no neuron statistics for {layer} beside {checkpoint}; run 'auralize "
                                "neurons CHECKPOINT --data DIR' first or give --neurons")
        units, owners = top_units(report)
    for row in save_units(model, units, out, gate, seconds, contrast, iters, seed, owners, checkpoint):
        top_of = f" (top of {', '.join(row['top_of'])})" if row["top_of"] else ""
        click.echo(f"unit {row['unit']} gate {row['gate']}{top_of}: {row['wav']}")
    click.echo(f"saved {out / 'weights.json'}")


@cli.command("info")
@CHECKPOINT
@NO_RANDOMNESS_SEED
def info_cmd(checkpoint):
    """What a checkpoint is: model, genres, front end, split and how it was trained."""
    from .checkpoint import load_model
    from .neurons import neurons_path

    model = load_model(checkpoint)
    cfg, meta = model.config, model.meta
    click.echo(f"{checkpoint}: {cfg.kind} {model.size_label()}".rstrip())
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
    states = model.state_names()
    if states:
        click.echo(f"  states: {', '.join(states)}")


@cli.command("predict")
@click.argument("songs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model (default: the shipped trained/lstm.pt).")
@click.option("--clips", is_flag=True, help="Also list every 5-s clip's genre.")
@out_option("Also write the table: .json or .csv (one row per song, with its clips' genres).")
@NO_RANDOMNESS_SEED
def predict_cmd(songs, checkpoint, clips, out):
    """Classify songs: the genre of each (a vote of its 5-s clips) and its probability."""
    from . import default_checkpoint
    from .checkpoint import load_model
    from .evaluation import predict, prediction_format, save_predictions

    if out is not None:
        prediction_format(out)  # an unknown format fails before any work
    model = load_model(checkpoint or default_checkpoint("lstm"))
    predictions = []
    for song in songs:
        pred = predict(model, song)
        predictions.append((song, pred))
        click.echo(f"{song}: {pred.genre} (mean p {pred.probability:.3f} over {len(pred.probabilities)} clips)")
        if clips:
            for i, p in enumerate(pred.probabilities):
                top = int(p.argmax())
                click.echo(f"  clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {model.genres[top]:10s} {p[top]:.3f}")
    if out is not None:
        click.echo(f"saved {save_predictions(predictions, out)}")


def _method_choices():
    from .attribution import method_choices

    return method_choices()


@cli.command("explain")
@click.argument("song", type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Model to explain (default: the shipped trained/lstm.pt).")
@click.option("--method", type=LazyChoice(_method_choices, case_sensitive=False), default="ig", show_default=True,
              help="Attribution method (ig: Integrated Gradients from silence).")
@click.option("--noise-tunnel", is_flag=True, help="Average attributions over noisy copies (SmoothGrad).")
@click.option("--target", default=None, help="Genre to explain (default: the song's verdict).")
@click.option("--steps", type=click.IntRange(1, 10_000), default=64, show_default=True,
              help="Integrated Gradients steps.")
@click.option("--max-seconds", type=Finite(lo=5), default=600, show_default=True,
              help="Explain only the first this many seconds of a long song (a warning says so).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the results (default: explain-<song name>/).")
@SEED
@QUIET
def explain_cmd(song, checkpoint, method, noise_tunnel, target, steps, max_seconds, out, seed, quiet):
    """Per-clip genre probabilities, attributions over the spectrogram, and what the model listened to."""
    from . import default_checkpoint
    from . import attribution as ex
    from .checkpoint import load_model
    from .features import load_audio

    out = ex.check_folder(out or ex.default_folder(song))  # creates nothing: a failure leaves no folder
    model = load_model(checkpoint or default_checkpoint("lstm"))
    audio = load_audio(song)
    with echo_warnings():
        exp = ex.explain(model, audio, method, target, noise_tunnel, steps, seed=seed, progress=not quiet,
                         name=str(song), max_seconds=max_seconds, log=lambda m: click.echo(m, err=True))
    files = ex.save_explanation(exp, out)
    for i, p in enumerate(exp.probabilities):
        top = int(p.argmax())
        click.echo(f"clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {exp.genres[top]:10s} {p[top]:.3f}")
    click.echo(f"verdict: {exp.verdict}")
    click.echo(f"files: {out}/ [{', '.join(p.name for p in files.values())}]")


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

    with echo_warnings():
        page = write_gallery(results_dir, out, neurons=list(neurons) or None)
    click.echo(f"wrote {page}")


def _judge_names() -> list[str]:
    from .panel import JUDGES

    return list(JUDGES)


@cli.command("train-judge")
@click.argument("name", type=LazyChoice(_judge_names))
@DATA
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the judge (default trained/panel/<NAME>.<npz|pt>); its model card goes beside it.")
@click.option("--split-seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the track split (0: the shipped checkpoints' split, whose test part stays held out).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Training seed (default: the judge's own, 1 for the recurrent judges, 0 otherwise).")
@QUIET
def train_judge_cmd(name, data_dir, out, split_seed, seed, quiet):
    """Train a judge of the held-out listening panel and write its model card."""
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
