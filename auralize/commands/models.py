"""Commands that train, evaluate and describe models: ``train``, ``evaluate``, ``reproduce``, ``info``, ``predict``,
``ensemble``."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_options import (CHECKPOINT, CHECKPOINT_HELP, DATA, DEVICE, FORCE, GENRES_OPT, JOBS, LABELS, NO_RANDOMNESS_SEED,
                           QUIET, SEED, SEED_TYPE, SPLIT, Finite, LazyChoice, echo_warnings, load_data, out_option)
from ..settings import COMPRESSIONS, INPUT_NORMS, NORMS, OPTIMIZERS, PARTS, SPLITS, VARIANTS


def _model_names() -> list[str]:
    from ..models import model_names

    return model_names()


def _robust_names() -> list[str]:
    from ..robust import ROBUST

    return ROBUST.choices()


def _combine_names() -> list[str]:
    from ..ensembles import COMBINE

    return list(COMBINE)

@click.command("train")
@click.option("--model", "kind", type=LazyChoice(_model_names), required=True, help="Which model kind (the model registry).")
@DATA
@LABELS
@SPLIT
@click.option("--hidden", type=click.IntRange(1, 4096), default=None,
              help="Hidden units (default: the paper's best for the model).")
@click.option("--layers", type=click.IntRange(1, 16), default=None, help="Recurrent layers (default: 2).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Maximum epochs (default 60; early stopping after --patience).")
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Stop after this many epochs without validation gain (default: the kind's; 20 for the paper's).")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default=None, help="adam (default) or sgd (the paper's, with --lr 1.0).")
@click.option("--lr", type=Finite(lo=0, lo_open=True), default=None, help="Learning rate (default 1e-3 for adam).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Clips per batch (default: the kind's; 128 for the paper's models); under torchrun the global "
                   "batch, shared by the processes.")
@click.option("--dropout", type=Finite(lo=0, hi=1, hi_open=True), default=None,
              help="Dropout (default: the kind's; 0.2 for the paper's models).")
@click.option("--weight-decay", type=Finite(lo=0), default=None,
              help="L2 penalty on the weights (default: the kind's; 0 for the paper's, 0.001 for cnn-mel).")
@click.option("--compression", type=click.Choice(COMPRESSIONS), default="log", show_default=True,
              help="log: log PSD; none: the paper's raw PSD.")
@click.option("--input-norm", type=click.Choice(INPUT_NORMS), default="level", show_default=True,
              help="level: the model removes each clip's mean log level first (generalises across artists).")
@click.option("--norm", type=click.Choice(NORMS), default="bin", show_default=True,
              help="Normalise each frequency bin (bin) or with one scalar mean and std (global, the authors').")
@click.option("--variant", type=click.Choice(VARIANTS), default="paper", show_default=True,
              help="paper: the equations; authors: the departures of the authors' code.")
@click.option("--no-augment", is_flag=True, help="Turn off random gain and time/frequency masks.")
@click.option("--robust", type=LazyChoice(_robust_names), default="none", show_default=True,
              help="Robust training (auralize.robust.ROBUST): Gaussian noise, an L2 PGD adversary on each batch's "
                   "input, or TRADES (clean loss + KL to the point within eps that moves the prediction most).")
@click.option("--robust-eps", type=Finite(lo=0, hi=10), default=0.05, show_default=True,
              help="Size of the --robust perturbation, RMS per input element (input is normalised per bin).")
@click.option("--init-from", type=click.Path(path_type=Path), default=None,
              help="Start from this checkpoint's weights (same model and split): fine-tuning.")
@GENRES_OPT
@out_option("Checkpoint path (default runs/<model>-<split>-seed<seed>.pt).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from <out>.resume.pt.")
@SEED
@click.option("--split-seed", type=SEED_TYPE, default=None,
              help="Seed of the track split (default: --seed), to train other initialisations on one split.")
@DEVICE
@QUIET
def train_cmd(kind, data_dir, labels, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
              weight_decay, compression, input_norm, norm, variant, no_augment, robust, robust_eps, init_from, genres,
              out, resume, seed, split_seed, device, quiet):
    """Train one model and save its best checkpoint.

    Under 'torchrun --nproc-per-node N -m auralize train ...' the N processes train one model
    data-parallel (DistributedDataParallel; gloo on the CPU, NCCL on GPUs); rank 0 writes and reports.
    """
    from .. import distributed

    here = distributed.start(distributed.pick_device(device))
    try:
        _train(kind, data_dir, labels, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
               weight_decay, compression, input_norm, norm, variant, no_augment, robust, robust_eps, init_from, genres,
               out, resume, seed, split_seed, device, quiet or not here.main, here.main)
    finally:
        distributed.stop()


def _train(kind, data_dir, labels, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
           weight_decay, compression, input_norm, norm, variant, no_augment, robust, robust_eps, init_from, genres,
           out, resume, seed, split_seed, device, quiet, main):
    from ..checkpoint import load_model
    from ..training import TrainSettings, check_out, train

    out = check_out(out or Path("runs") / f"{kind}-{split}-seed{seed}.pt")
    if init_from is not None:
        load_model(init_from)  # a damaged checkpoint is refused before any data is read
    from ..models import model_kind

    data = load_data(data_dir, quiet, genres, audio=model_kind(kind).front_end != "paper", labels=labels)
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, patience=patience,
                             weight_decay=weight_decay, augment=not no_augment, robust=robust,
                             robust_eps=robust_eps if robust != "none" else 0.0,
                             init_from=str(init_from) if init_from else None)
    command = "auralize " + " ".join(sys.argv[1:])
    try:
        # hidden/layers 0: the model's default (the CLI accepts only positive sizes)
        result = train(kind, data, split, hidden=hidden or 0, layers=layers or 0, variant=variant, dropout=dropout,
                       compression=compression, per_bin=norm == "bin", input_norm=input_norm, settings=settings,
                       seed=seed, split_seed=split_seed, out=out, resume=resume,
                       progress=not quiet, log=lambda m: click.echo(m, err=True), meta={"command": command},
                       device=device)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (signals.Terminated)
        from ..signals import Terminated

        saved = out.with_suffix(".resume.pt")
        hint = (f"rerun the same command with --resume to continue from {saved}" if saved.exists()
                else "no epoch had finished, nothing to resume")
        if main:
            click.echo(f"auralize: interrupted; {hint}", err=True)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    if main:
        click.echo(f"saved {result.path} (coverage: {result.model.meta['coverage']})")

@click.command("evaluate")
@CHECKPOINT
@DATA
@LABELS
@click.option("--split", type=click.Choice(SPLITS), default=None,
              help="Split to evaluate on (default: the one the checkpoint was trained on, so its test part is "
                   "held out; another split whose test tracks it was trained on is marked as inflated).")
@click.option("--part", type=click.Choice(PARTS), default="test", show_default=True)
@out_option("Folder for the confusion-matrix PNG and JSON (default: beside the checkpoint).")
@click.option("--seed", type=SEED_TYPE, default=None,
              help="Seed of the track split (default: the one the checkpoint was trained with).")
@DEVICE
@QUIET
def evaluate_cmd(checkpoint, data_dir, labels, split, part, out, seed, device, quiet):
    """Clip and track accuracy, per genre, and a confusion matrix of a checkpoint."""
    from ..audiomodel import file_stem, origin
    from ..checkpoint import load_model
    from ..data import GENRES
    from ..evaluation import evaluate

    from ..io import ensure_writable

    from ..distributed import pick_device

    model = load_model(checkpoint)
    out = ensure_writable(out or origin(model).parent)  # before the work
    model.to(pick_device(device))
    data = load_data(data_dir, quiet, ",".join(model.genres) if set(model.genres) != set(GENRES) else None, model,
                     labels=labels)
    with echo_warnings():
        ev = evaluate(model, data, split, part, seed=seed)
    leak = ev.training_overlap
    inflated = f" [INFLATED: {leak['tracks']} of {leak['of']} {part} tracks were trained on]" if leak else ""
    png, _ = ev.save(out, f"{file_stem(model)}-{ev.split}-{part}",
                     f"{checkpoint.name}: {ev.split} split, {part} clips (acc {ev.clip_accuracy:.3f}){inflated}")
    click.echo(ev.coverage + inflated)
    click.echo(f"{part}: {ev.n_clips} clips, {ev.n_tracks} tracks")
    click.echo(f"clip accuracy  {ev.clip_accuracy:.3f}")
    click.echo(f"track accuracy {ev.track_accuracy:.3f}")
    click.echo(ev.table())
    click.echo(f"confusion matrix: {png}")

@click.command("reproduce")
@DATA
@click.option("--split", type=click.Choice(SPLITS), default="filtered", show_default=True)
@out_option("Folder for the tables, figures and checkpoints.", default=Path("docs/results"))
@click.option("--models", default=None, help="Comma-separated model kinds (default: all registered: the paper's six).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Maximum epochs of the neural models.")
@click.option("--input-norm", type=click.Choice(INPUT_NORMS), default="level", show_default=True,
              help="level: every model removes each clip's mean log level first.")
@GENRES_OPT
@FORCE
@SEED
@QUIET
def reproduce_cmd(data_dir, split, out, models, epochs, input_norm, genres, force, seed, quiet):
    """Train and evaluate all six of the paper's models; write a table beside the paper's."""
    from ..models import model_kind
    from ..reproduce import reproduce

    kinds = None if models is None else [model_kind(m.strip()).name for m in models.split(",") if m.strip()]
    data = load_data(data_dir, quiet, genres)
    name = split if not genres else f"{split}-{len(data.genres)}genres"
    table = reproduce(data, split, out, models=kinds, seed=seed, epochs=epochs, progress=not quiet,
                      log=lambda m: click.echo(m, err=True), name=name, input_norm=input_norm, force=force)
    click.echo(table.read_text())
    click.echo(f"written: {table}")

@click.command("info")
@CHECKPOINT
@NO_RANDOMNESS_SEED
def info_cmd(checkpoint):
    """What a checkpoint is: model, genres, front end, split and how it was trained."""
    from ..audiomodel import label, state_sizes
    from ..checkpoint import load_model
    from ..ensembles import Ensemble
    from ..neurons import neurons_path

    model = load_model(checkpoint)
    meta = getattr(model, "meta", None) or {}
    cfg = getattr(model, "config", None)
    members = model.models if isinstance(model, Ensemble) else ()
    own = '(an ensemble)' if isinstance(model, Ensemble) else '(your own model)'
    click.echo(f"{checkpoint}: {label(model)} {model.size_label() if cfg else own}".rstrip())
    paper = hasattr(model, "scaler")
    if paper:
        click.echo(f"  variant {cfg.variant}, input normalisation {cfg.input_norm}, dropout {cfg.dropout}")
    click.echo(f"  genres: {', '.join(model.genres)}")
    if paper:
        click.echo(f"  input: compression {model.scaler.compression}, {'per-bin' if model.scaler.per_bin else 'global'} "
                   "mean and std of the training clips")
    else:
        click.echo(f"  input: its own front end, {model.clip_samples / model.sample_rate:g}-s clips at "
                   f"{model.sample_rate} Hz")
    for k, member in enumerate(members):
        temperature = f", temperature {model.temperatures[k]:.3f}" if model.temperatures[k] != 1.0 else ""
        click.echo(f"  member m{k}: {label(member)}, {getattr(member, 'path', None) or 'built in memory'}{temperature}")
    if members and model.output_temperature != 1.0:
        click.echo(f"  combined output: temperature {model.output_temperature:.3f}")
    if meta:
        click.echo(f"  split: {meta.get('coverage', meta.get('split', '?'))}")
    if "best_epoch" in meta:
        click.echo(f"  best epoch {meta.get('best_epoch')}, validation clip accuracy {meta.get('best_valid_acc', 0):.3f}")
        click.echo(f"  made by: {meta.get('command', '?')}")
    path = neurons_path(model)
    click.echo(f"  neuron statistics: {path if path.exists() else 'none (run auralize neurons)'}")
    states = state_sizes(model)
    if states:
        click.echo(f"  states: {', '.join(states)}")

@click.command("predict")
@click.argument("songs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None, help=f"The model (default the shipped trained/lstm.pt): {CHECKPOINT_HELP}.")
@click.option("--clips", is_flag=True, help="Also list every 5-s clip's genre.")
@click.option("--max-seconds", type=Finite(lo=5, hi=86_400), default=600, show_default=True,
              help="Hear only the first this many seconds of a long song (a warning says so).")
@out_option("Also write the table: .json or .csv (one row per song, with its clips' genres).")
@JOBS
@DEVICE
@NO_RANDOMNESS_SEED
def predict_cmd(songs, checkpoint, clips, max_seconds, out, jobs, device):
    """Classify songs: the genre of each (a vote of its 5-s clips) and its probability.

    A song that cannot be classified (unreadable, too short, silent) is skipped with a warning; the
    others are listed and written.
    """
    from .. import default_checkpoint
    from ..checkpoint import load_model
    from ..errors import AuralizeError
    from ..evaluation import predict_many, prediction_format, save_predictions
    from ..io import ensure_writable

    if out is not None:
        prediction_format(out)  # an unknown format fails before any work
        ensure_writable(out.parent)
    model = load_model(checkpoint or default_checkpoint("lstm"))
    predictions = []
    with echo_warnings():  # each song's warnings before its line
        for song, pred in zip(songs, predict_many(model, songs, max_seconds=max_seconds, jobs=jobs, device=device)):
            if isinstance(pred, AuralizeError):
                if len(songs) == 1:
                    raise pred
                click.echo(f"warning: skipping {song}: {pred}", err=True)
                continue
            predictions.append((song, pred))
            click.echo(f"{song}: {pred.genre} (mean p {pred.probability:.3f} over {len(pred.probabilities)} clips)")
            if clips:
                for i, p in enumerate(pred.probabilities):
                    top = int(p.argmax())
                    click.echo(f"  clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {model.genres[top]:10s} {p[top]:.3f}")
    if not predictions:
        raise AuralizeError(f"none of the {len(songs)} songs could be classified (see the warnings)")
    if out is not None:
        click.echo(f"saved {save_predictions(predictions, out)}")


@click.command("ensemble")
@click.argument("members", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="The ensemble file to write (.json).")
@click.option("--combine", type=LazyChoice(_combine_names), default="mean", show_default=True,
              help="Combine the members' log-probabilities by their mean or their minimum.")
@click.option("--name", default=None, help="A name for messages and result files.")
@click.option("--calibrate", is_flag=True,
              help="Fit each member's temperature on the validation part of its own split (needs --data), so that "
                   "an under-confident member is not outweighed.")
@click.option("--calibrate-output", is_flag=True,
              help="Fit one temperature to the combined output on the validation part of the members' shared split "
                   "(needs --data): the ensemble's probabilities then mean what they say, its verdicts and the members' "
                   "weights unchanged. After --calibrate when both are given.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="With --calibrate or --calibrate-output: the folder of genre folders the members were trained on.")
@QUIET
@FORCE
@NO_RANDOMNESS_SEED
def ensemble_cmd(members, out, combine, name, calibrate, calibrate_output, data_dir, quiet, force):
    """Write an ensemble file: several checkpoints (MEMBERS, .pt) as one model, usable wherever a checkpoint is
    (--checkpoint team.json). A dream through it must be heard as its genre by every member."""
    from ..checkpoint import save_ensemble
    from ..io import protect_shipped, refuse_overwriting

    fitting = [flag for flag, on in (("--calibrate", calibrate), ("--calibrate-output", calibrate_output)) if on]
    if fitting and data_dir is None:
        raise click.UsageError(f"{fitting[0]} fits temperatures on data: give --data DIR (the genre folders the "
                               "members were trained on)")
    if data_dir is not None and not fitting:
        raise click.UsageError("--data is read only with --calibrate or --calibrate-output (to fit temperatures on "
                               "it): add one or leave --data out")
    refuse_overwriting([out], {f"member {m}": m for m in members})
    protect_shipped([out], force)
    fits = output_fit = None
    if fitting:
        from ..calibration import fit_members, fit_output
        from ..checkpoint import load_model

        data = load_data(data_dir, quiet, audio=True)
        models = [load_model(m) for m in members]  # once, for both fits
        fits = fit_members(models, data) if calibrate else None
        output_fit = fit_output(models, data, combine, fits) if calibrate_output else None
    path = save_ensemble(members, out, combine, name, fits, output_fit)
    click.echo(f"wrote {path}: {combine} of {len(members)} members ({', '.join(map(str, members))})")
    for m, fit in zip(members, fits or ()):
        click.echo(f"  {m}: {fit.line()}")
    if output_fit is not None:
        click.echo(f"  combined output: {output_fit.line()}")
