"""What every ``auralize`` command shares: option types that refuse bad numbers, common options,
and the group that turns errors into one line with exit code 2."""
from __future__ import annotations

import contextlib
import math
import sys
import warnings
from pathlib import Path
from typing import Callable, Iterator

import click

from .errors import AuralizeError
from .settings import SPLITS
from .workers import MAX_JOBS

#: Library argument names whose CLI option is not simply ``--<name with dashes>``.
FLAGS = {"n_iter": "--iters", "griffin_lim_iters": "--iters", "k": "-k/--top", "data_dir": "--data",
         "n_steps": "--steps", "kind": "--model", "clamp": "--no-clamp", "out": "-o/--out"}


class Finite(click.ParamType):
    """A float that must be finite (never NaN or infinity) and within optional bounds."""

    name = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                 hi_open: bool = False) -> None:
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    def convert(self, value, param, ctx):
        if isinstance(value, float) and math.isfinite(value):
            v = value
        else:
            try:
                v = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
            if not math.isfinite(v):
                self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            self.fail(f"{value!r} must be {'>' if self.lo_open else '>='} {self.lo:g}", param, ctx)
        if self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi):
            self.fail(f"{value!r} must be {'<' if self.hi_open else '<='} {self.hi:g}", param, ctx)
        return v


#: Seeds: what NumPy's and torch's generators both accept.
SEED_TYPE = click.IntRange(0, 2**32 - 1)

SEED = click.option("--seed", type=SEED_TYPE, default=0, show_default=True, help="Random seed; same seed, same output.")
DATA = click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
                    help="Folder of genre folders (GTZAN's genres/, Kaggle's genres_original/, or <genre>/*.flac), "
                         "any folder with --labels, or a feature store ('auralize cache'), read lazily.")
LABELS = click.option("--labels", type=click.Path(path_type=Path), default=None,
                      help="CSV of path,genre (FMA style; path relative to --data) instead of genre folders.")
DEVICE = click.option("--device", type=click.Choice(("cpu", "cuda", "auto")), default="cpu", show_default=True,
                      help="Where the model computes (auto: cuda if torch sees a GPU).")


class _JobsOrAuto(click.ParamType):
    """``--jobs``: a number of worker processes (1 to :data:`~auralize.workers.MAX_JOBS`) or ``auto``."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = 0
        if not 1 <= n <= MAX_JOBS:
            self.fail(f"{value!r} is neither a number of worker processes from 1 to {MAX_JOBS} nor auto", param, ctx)
        return n


JOBS_OR_AUTO = _JobsOrAuto()
JOBS = click.option("--jobs", type=click.IntRange(1, MAX_JOBS), default=1, show_default=True,
                    help="Worker processes; the output does not depend on it.")
SPLIT = click.option("--split", type=click.Choice(SPLITS), default="filtered", show_default=True,
                     help="filtered: artist-disjoint fault-filtered lists; clip: the paper's leaky clip shuffle; "
                          "track: song-level stratified.")
# Commands without randomness take --seed too, so scripts can pass it to every command.
NO_RANDOMNESS_SEED = click.option("--seed", type=SEED_TYPE, default=0, show_default=True, expose_value=False,
                                  help="Accepted for uniformity; this command has no randomness.")
QUIET = click.option("--quiet", is_flag=True, help="No progress bars.")
FORCE = click.option("--force", is_flag=True,
                     help="Replace what the repository ships (trained/, docs/) or, at the default path, what is there.")
#: A model: a checkpoint (.pt), an ensemble file (.json) or the user's Python file that builds one (my_model.py:build).
CHECKPOINT = click.argument("checkpoint", type=click.Path(path_type=Path), metavar="MODEL")
CHECKPOINT_HELP = ("a checkpoint (.pt), an ensemble file (.json, auralize ensemble) or my_model.py:build, a Python file of "
                   "yours whose function returns a model (auralize.wrap); that runs your code")


GENRES_OPT = click.option("--genres", default=None,
                          help="Comma-separated genres to keep (e.g. blues,classical,jazz,rock); default: all found.")



class LazyChoice(click.Choice):
    """A choice read from a registry when the option is used or shown, so a new registry entry
    is a new choice and ``import auralize.cli`` does not import what fills the registry."""

    def __init__(self, names: Callable[[], list[str]], case_sensitive: bool = True) -> None:
        self._names = names  # not super().__init__: it would set the choices
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    def convert(self, value, param, ctx):
        # The default needs no registry (reading one imports torch): the group's --param default is
        # converted on every command, also on those that never dream.
        if param is not None and value is not None and value == param.default:
            return value
        return super().convert(value, param, ctx)


def rule_names() -> list[str]:
    """The timestep rules (:data:`auralize.neurons.RULES`), for ``--rule``."""
    from .neurons import RULES

    return RULES.choices()


@contextlib.contextmanager
def echo_warnings() -> Iterator[None]:
    """Show the library's warnings in the block as ``warning: ...`` lines on stderr, as they happen
    (a warning about a long job must come before the job, not after it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *args, **kwargs: click.echo(f"warning: {message}", err=True)
        yield


def out_option(help: str, default=None):
    """``-o/--out``: every command that writes takes it."""
    return click.option("-o", "--out", type=click.Path(path_type=Path), default=default,
                        show_default=default is not None, help=help)


def flag(param: str) -> str:
    """The CLI option of a library argument name."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


class AuralizeGroup(click.Group):
    """A group whose errors are one line on stderr with exit code 2, never a traceback."""

    def main(self, args=None, prog_name=None, **extra):
        from .signals import Terminated, terminate_as_interrupt

        extra.pop("standalone_mode", None)
        try:
            with terminate_as_interrupt():  # SIGTERM cleans up and ends in one line, as Ctrl-C does
                code = super().main(args=args, prog_name=prog_name or "auralize", standalone_mode=False, **extra)
        except AuralizeError as exc:
            message = str(exc)
            if exc.param and message.startswith(exc.param + " "):  # the library names arguments, we name flags
                message = flag(exc.param) + message[len(exc.param):]
            _fail(message)
        except click.exceptions.Abort as exc:  # click turns Ctrl-C into Abort
            terminated = isinstance(exc.__context__, Terminated)
            click.echo("auralize: terminated" if terminated else "auralize: aborted", err=True)
            sys.exit(143 if terminated else 130)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f"auralize {ctx.info_name}" if ctx is not None and ctx.parent is not None else "auralize"
            _fail(f"{exc.format_message()} (see '{where} --help')".replace("\n", " "))
        except KeyboardInterrupt as exc:
            click.echo("auralize: interrupted; rerun with --resume where the command has it", err=True)
            sys.exit(143 if isinstance(exc, Terminated) else 130)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> None:
    click.echo(f"auralize: error: {message}", err=True)
    sys.exit(2)


def load_data(data_dir: Path, quiet: bool, genres: str | None = None, model=None, audio: bool = False,
              check: Callable | None = None, labels: Path | None = None):
    """Load a data set for a command: its warnings on stderr as they happen, then what was found.

    For a ``model``, what it reads (:func:`auralize.evaluation.load_data_for`: the cached paper-grid PSDs,
    or clips of audio at its rate; with ``audio``, the clips' audio in any case). ``check`` is called on
    the data first, so that an option the data cannot serve fails in one line before anything is said.
    ``labels``: a CSV of path and genre instead of genre folders.
    """
    from .data import load_clips, load_dataset
    from .evaluation import load_data_for

    wanted = None
    if genres is not None:
        wanted = [g.strip().lower() for g in genres.split(",") if g.strip()]
        if not wanted:
            raise click.BadParameter(f"{genres!r} names no genre; give comma-separated names", param_hint="'--genres'")
    with echo_warnings():
        if model is not None:
            data = load_data_for(model, data_dir, not quiet, audio, labels)
        else:
            data = (load_clips if audio else load_dataset)(data_dir, progress=not quiet, labels=labels)
    if wanted:
        data = data.only(wanted)
    if check is not None:
        check(data)
    from .distributed import world

    if world().main:  # under torchrun, once
        click.echo((data.dataset if hasattr(data, "dataset") else data).summary(), err=True)
    return data
