"""The priors a dream can name: their registry, their files, reading them and fitting them.

``music-mix`` (:mod:`.mixture_prior`, genre-blind with several modes, the default), ``music``
(:mod:`.music_prior`, genre-blind, one Gaussian) and ``genre`` (:mod:`.prior`, each genre's texture) are its
entries; ``--prior NAME`` and ``auralize train-prior --kind NAME`` read it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..arrays import read_npz
from ..errors import AuralizeError
from ..registry import Registry
from .mixture_prior import MixturePrior, train_mixture
from .music_prior import MusicPrior, train_music
from .prior import GenrePrior, check_statistics, train_genre


@dataclass(frozen=True)
class PriorKind:
    """A kind of prior a dream can name (``--prior NAME``) and ``auralize train-prior --kind NAME`` fits.

    ``train(clips, meta, names, rank, log)`` fits it on the TRAIN part of a :class:`~auralize.data.ClipSet`
    and returns the prior and its card (Markdown); ``file`` is the shipped file's name in ``trained/``;
    ``cls`` reads a file of its ``file_format`` (``cls.from_arrays``); ``options``: the further keyword
    arguments ``train`` takes.
    """

    name: str
    file: str
    train: Callable
    cls: type
    help: str = ""
    options: tuple[str, ...] = ()


#: The priors: ``music-mix`` (genre-blind, several modes, :mod:`.mixture_prior`; the default), ``music``
#: (genre-blind, one Gaussian, :mod:`.music_prior`) and ``genre`` (:class:`GenrePrior`, which supplies the genre's
#: texture itself).
PRIORS: Registry[PriorKind] = Registry("prior", "prior")
#: The dreams' prior unless told otherwise (docs/results/dream-mixture.md chose it).
DEFAULT_PRIOR = "music-mix"


def prior_path(prior: str | Path | None = None) -> Path:
    """The file of a prior: a name of :data:`PRIORS`, a path, or ``None`` (``$AURALIZE_PRIOR``, else the default)."""
    from .. import TRAINED_DIR

    if prior is None:
        prior = os.environ.get("AURALIZE_PRIOR") or DEFAULT_PRIOR
    if isinstance(prior, str) and prior in PRIORS:
        return TRAINED_DIR / PRIORS[prior].file
    return Path(prior)


def default_prior_path(kind: str = DEFAULT_PRIOR) -> Path:
    """Where ``auralize train-prior`` writes a prior of ``kind`` by default: its shipped file."""
    return prior_path(PRIORS.canonical(kind))


def _formats() -> dict[str, type]:
    return {kind.cls.file_format: kind.cls for kind in PRIORS.values()}


def read_prior(path: str | Path):
    """Read a prior file of any kind; a missing, foreign or damaged file is a one-line :class:`AuralizeError`.

    Every array's header is checked before it is read (a small file cannot make auralize allocate
    gigabytes), then its format picks the kind (:data:`PRIORS`' classes), which checks the rest.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise AuralizeError(f"path must be a prior file (a str or Path), got {path!r:.60}", param="path")
    path = Path(path)
    if path.is_dir():
        raise AuralizeError(f"prior {path} is a folder; give a prior file (.npz, made by 'auralize train-prior') or "
                            f"one of {', '.join(PRIORS)}", param="prior")
    if not path.is_file():
        raise AuralizeError(f"prior {path} not found; make it with 'auralize train-prior --data DIR' (DIR: a folder of "
                            "genre folders), or dream without it (--prior-weight 0)", param="prior")
    remake = "make one with 'auralize train-prior --data DIR'"
    z = read_npz(path, "a prior", remake, param="prior")
    fmt = z.get("format")
    cls = _formats().get(str(fmt)) if fmt is not None and fmt.shape == () else None
    if cls is None:
        raise AuralizeError(f"{path} is not a prior auralize can read (its format is none of {', '.join(_formats())}); "
                            f"{remake}", param="prior")
    prior = cls.from_arrays(z, path)
    prior.meta["path"] = str(path)
    return prior


_loaded: dict[tuple[str, int], object] = {}


def load_prior(prior: str | Path | None = None):
    """Load a prior by name (:data:`PRIORS`: ``music-mix``, the default, ``music`` or ``genre``) or path, cached per
    file and modification time: a :class:`~auralize.dream.mixture_prior.MixturePrior`, a
    :class:`~auralize.dream.music_prior.MusicPrior` or a :class:`GenrePrior`."""
    if prior is not None and not isinstance(prior, (str, os.PathLike)):
        raise AuralizeError(f"path must be a prior's name or file (a str or Path), got {prior!r:.60}", param="path")
    path = prior_path(prior)
    if not path.is_file():
        return read_prior(path)  # raises, saying what is wrong
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        _loaded[key] = read_prior(path)
    return _loaded[key]


def train_prior(data_dir: str | Path, out: str | Path | None = None, split_seed: int = 0, command: str = "",
                names: Sequence[str] | None = None, kind: str | None = None, rank: int | None = None,
                components: int | None = None, log: Callable[[str], None] = print,
                force: bool = False) -> tuple[object, Path, Path]:
    """Fit a prior of ``kind`` (:data:`PRIORS`, default :data:`DEFAULT_PRIOR`) on the TRAIN part of ``data_dir``'s track split (``split_seed``;
    0 is the shipped checkpoints' and the panel's split), write it to ``out`` (default: the kind's shipped
    file) with a card beside it (``.md``); returns the prior, its path and the card's.

    ``names``: the statistics (default every registered one); ``rank``: the principal directions of the
    genre-blind priors; ``components``: the Gaussians of ``music-mix`` (an error for another kind). The genre prior's card gives how often it alone puts a held-out clip
    nearest its own genre; the music prior's, how it scores held-out clips of each genre and noise. The
    shipped prior (or, without ``out``, any prior already there) is replaced only with ``force``; all of
    that is checked before any work.
    """
    from ..data import load_clips
    from ..io import artefact_paths, atomic_write_text

    entry = PRIORS[kind or DEFAULT_PRIOR]
    if components is not None and "components" not in entry.options:
        raise AuralizeError(f"a {entry.name} prior has no mixture components: leave out components, or use "
                            "kind music-mix", param="components")
    names = check_statistics(names)
    out, card_path = artefact_paths(out or default_prior_path(entry.name), force, default=out is None)
    clips = load_clips(data_dir, split_seed)
    log(clips.dataset.summary())
    log(clips.split.coverage)
    options = {"components": components} if components is not None else {}
    prior, card = entry.train(clips, {"split": clips.split.coverage, "split_seed": split_seed, "command": command},
                              names, rank, log, **options)
    prior.save(out)
    return prior, out, atomic_write_text(card_path, card(out))


PRIORS.register(PriorKind("music", "music-prior.npz", train_music, MusicPrior,
                          "genre-blind, one Gaussian: real music of every genre, learned without labels"))
PRIORS.register(PriorKind("music-mix", "music-mix-prior.npz", train_mixture, MixturePrior,
                          "genre-blind, several modes: a Gaussian mixture of real music of every genre, no labels "
                          "(the default)",
                          ("components",)))
PRIORS.register(PriorKind("genre", "genre-prior.npz", train_genre, GenrePrior,
                          "the texture of real clips of the dream's genre: a listener hears the prior's genre"))
