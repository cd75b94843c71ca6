"""The ``auralize`` command: a thin layer over the Python API."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import AuralizeError

SEED = click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same output.")
DATA = click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
                    help="Folder of genre folders (GTZAN's genres/, Kaggle's genres_original/, or <genre>/*.flac).")
SPLIT = click.option("--split", type=click.Choice(["filtered", "clip", "track"]), default="filtered", show_default=True,
                     help="filtered: artist-disjoint fault-filtered lists; clip: the paper's leaky clip shuffle; "
                          "track: song-level stratified.")
QUIET = click.option("--quiet", is_flag=True, help="No progress bars.")


def _load_data(data_dir: Path, quiet: bool):
    from .data import load_dataset
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset(data_dir, progress=not quiet)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    click.echo(data.summary(), err=True)
    return data


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auralize")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """auralize: train recurrent genre classifiers and make what they learned audible."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


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
@click.option("--compression", type=click.Choice(["log", "none"]), default="log", show_default=True,
              help="log: log PSD; none: the paper's raw PSD.")
@click.option("--variant", type=click.Choice(["paper", "authors"]), default="paper", show_default=True,
              help="paper: the equations; authors: the departures of the authors' code.")
@click.option("--no-augment", is_flag=True, help="Turn off random gain and time/frequency masks.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Checkpoint path (default runs/<model>-<split>-seed<seed>.pt).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from <out>.resume.pt.")
@SEED
@QUIET
def train_cmd(kind, data_dir, split, hidden, layers, epochs, patience, optimizer, lr, batch_size, dropout,
              compression, variant, no_augment, out, resume, seed, quiet):
    """Train one model and save its best checkpoint."""
    from .training import TrainSettings, train

    data = _load_data(data_dir, quiet)
    out = out or Path("runs") / f"{kind}-{split}-seed{seed}.pt"
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, patience=patience,
                             augment=not no_augment)
    command = "auralize " + " ".join(sys.argv[1:])
    result = train(kind, data, split, hidden=hidden, layers=layers, variant=variant, dropout=dropout,
                   compression=compression, settings=settings, seed=seed, out=out, resume=resume,
                   progress=not quiet, log=lambda m: click.echo(m, err=True), meta={"command": command})
    click.echo(f"saved {result.path} (coverage: {result.model.meta['coverage']})")


@cli.command("evaluate")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@DATA
@SPLIT
@click.option("--part", type=click.Choice(["train", "valid", "test"]), default="test", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the confusion-matrix PNG and JSON (default: beside the checkpoint).")
@SEED
@QUIET
def evaluate_cmd(checkpoint, data_dir, split, part, out, seed, quiet):
    """Clip and track accuracy, per genre, and a confusion matrix of a checkpoint."""
    from .checkpoint import load_model
    from .evaluation import evaluate
    from .io import atomic_write_text
    from .report import confusion_figure

    model = load_model(checkpoint)
    data = _load_data(data_dir, quiet)
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
@SEED
@QUIET
def reproduce_cmd(data_dir, split, out, models, epochs, seed, quiet):
    """Train and evaluate all six of the paper's models; write a table beside the paper's."""
    from .models import ALL_MODELS
    from .reproduce import reproduce

    kinds = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in kinds if m not in ALL_MODELS]
    if unknown:
        raise AuralizeError(f"unknown model {unknown[0]!r}; choose from {', '.join(ALL_MODELS)}")
    data = _load_data(data_dir, quiet)
    table = reproduce(data, split, out, models=kinds, seed=seed, epochs=epochs, progress=not quiet,
                      log=lambda m: click.echo(m, err=True))
    click.echo(table.read_text())
    click.echo(f"written: {table}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 instead of tracebacks."""
    try:
        cli.main(args=argv, prog_name="auralize", standalone_mode=False)
    except AuralizeError as exc:
        click.echo(f"auralize: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("auralize: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        message = exc.format_message().replace("\n", " ")
        hint = f" (see 'auralize {exc.ctx.info_name} --help')" if getattr(exc, "ctx", None) and exc.ctx.parent else \
            " (see 'auralize --help')"
        click.echo(f"auralize: error: {message}{hint}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("auralize: interrupted", err=True)
        sys.exit(130)
