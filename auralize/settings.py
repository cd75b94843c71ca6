"""Settings and choice lists, in one module that imports nothing heavy (no torch, no numpy).

- :class:`Target`: what a genre's dream maximises (objective kind, neuron, class weight, prior);
- :class:`DreamSettings`: how to dream (parameterisation, length, ascent, penalties, transforms, seed);
- the fixed choice lists of the library and the CLI (:data:`SPLITS`, :data:`OPTIMIZERS`, ...).

Choices that are extension points (objective kinds, timestep rules, parameterisations,
transforms, ...) are registries (:mod:`auralize.registry`) in the modules that implement them;
the checks here look them up only when called, so building settings costs nothing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import checks
from .checks import MAX_SECONDS
from .errors import AuralizeError

#: Data splits (:func:`auralize.data.make_split`) and their parts.
SPLITS = ("filtered", "clip", "track")
PARTS = ("train", "valid", "test")
#: Input compression, normalisation statistics and in-model level removal of the paper's models.
COMPRESSIONS = ("log", "none")
NORMS = ("bin", "global")
INPUT_NORMS = ("level", "none")
#: The paper's equations, or the departures of the authors' code (docs/models.md).
VARIANTS = ("paper", "authors")
OPTIMIZERS = ("adam", "sgd", "adamw")
#: Learning-rate schedules and class weightings of training (auralize.training.TrainSettings).
SCHEDULES = ("none", "cosine")
CLASS_WEIGHTS = ("none", "sqrt")
#: The gates of an LSTM layer, in the order its weights stack them.
GATES = ("i", "f", "o", "g")

#: How far the genre prior's target moves a genre's statistics away from the other genres' (issue 8's study).
CARICATURE = 1.0
#: The most transformed copies a step may average, and the longest dream (seconds).
MAX_COPIES = 256


@dataclass(frozen=True)
class Target:
    """What a genre's dream maximises.

    ``objective`` names an objective kind (:data:`auralize.dream.objectives.OBJECTIVE_KINDS`):
    ``neuron`` (the paper's): the neuron most commonly active when the model predicts the genre
    (from the saved neuron statistics), or ``unit`` of ``layer`` when given, reduced over frames by
    the timestep rule ``rule``, plus ``class_weight`` times the genre's log-probability
    (``class_weight=0`` is the pure neuron objective); ``class``: the genre's log-probability;
    ``logit``: its logit. ``model_weight`` multiplies all of it: 0 switches the model off (the
    dream's prior-only control).

    To it, ``prior_weight`` times :func:`~auralize.dream.objectives.prior_match` is added: the pull of
    the dream's audio towards real music under the prior ``prior``, a name of
    :data:`auralize.dream.priors.PRIORS` or a file: ``music-mix`` (the default, ``trained/music-mix-prior.npz``,
    a mixture of real music's modes) or ``music`` (``trained/music-prior.npz``, one Gaussian), both
    genre-blind, the same for every genre; or ``genre`` (``trained/genre-prior.npz``), towards the
    statistics of real clips of ``prior_genre`` (default: the dream's genre) exaggerated away from the
    other genres' by ``caricature``: the genre's texture, which a listener then hears whatever the model
    asks for. ``prior_weight`` ``None`` is the prior's own default for a parameterisation that holds audio
    and 0 for the spectrogram one (the prior reads audio); 0 turns it off. ``prior_sample`` centres the
    genre-blind prior on a random draw from it (seeded by the dream's seed,
    :meth:`~auralize.dream.music_prior.MusicPrior.drawn`; for the mixture, one component,
    :meth:`~auralize.dream.mixture_prior.MixturePrior.drawn`) instead of its mode, so its pull, and the prior
    alone, differ from seed to seed.
    """

    objective: str = "class"
    layer: str | None = None
    unit: int | None = None
    rule: str = "mean"
    class_weight: float = 1.0
    prior_weight: float | None = None
    prior: str | Path | None = None
    caricature: float = CARICATURE
    model_weight: float = 1.0
    prior_genre: str | None = None
    prior_sample: bool = False

    def check(self) -> "Target":
        """Self, if every number is in range and the rule is registered; else a one-line error (the objective's
        name is checked with the objectives: :func:`auralize.dream.objectives.check_target`)."""
        from .neurons import RULES

        RULES.canonical(self.rule)
        if self.unit is not None:
            checks.count("unit", self.unit, 0)
        checks.number("class_weight", self.class_weight, lo=-1e3, hi=1e3)
        if self.prior_weight is not None:
            checks.number("prior_weight", self.prior_weight, lo=0, hi=1e3)
        checks.number("caricature", self.caricature, lo=0, hi=10)
        checks.number("model_weight", self.model_weight, lo=0, hi=1e3)
        if self.prior_genre is not None and (not isinstance(self.prior_genre, str) or not self.prior_genre):
            raise AuralizeError(f"prior_genre must name a genre, got {self.prior_genre!r}", param="prior_genre")
        if not isinstance(self.prior_sample, bool):
            raise AuralizeError(f"prior_sample must be True or False, got {self.prior_sample!r}", param="prior_sample")
        return self



@dataclass(frozen=True)
class DreamSettings:
    """How to dream: parameterisation, length, ascent, penalties, transforms, audio and seed.

    ``param`` is a parameterisation's name or class (:data:`auralize.dream.params.PARAMS`).
    ``l2``/``tv_time``/``tv_freq`` weigh the penalties; ``clamp`` keeps the input within the
    range of real inputs; ``jitter`` (frames, at most one clip: 22) and ``noise`` set the
    parameterisation's default transforms and ``transforms`` adds robustness transforms, by name
    (:data:`~auralize.dream.transforms.TRANSFORMS`; ``name:value`` sets a transform's first setting)
    or as transform objects; ``copies`` transformed copies are averaged at every step. ``init`` is
    ``noise``, ``silence``, mono 4 kHz audio or the path of an audio file; ``max_change`` bounds how
    far every optimised value may move from its start (with a song as ``init``: genre transfer or
    accentuation that stays near it).

    Examples
    --------
    >>> from auralize import DreamSettings
    >>> DreamSettings(steps=50, transforms=("shift", "freq-mask:60"), seed=3).check().steps
    50
    """

    param: Any = "fine"
    seconds: float = 5.0
    steps: int = 150
    lr: float | None = None
    init: Any = "noise"
    l2: float = 0.01
    tv_time: float = 0.05
    tv_freq: float = 0.05
    clamp: bool = True
    jitter: int = 1
    noise: float = 0.1
    transforms: tuple = ()
    window_step: int = 11
    copies: int = 1
    max_change: float | None = None
    griffin_lim_iters: int = 100
    seed: int = 0
    extra: dict = field(default_factory=dict, compare=False)  # room for new settings in the JSON

    def check(self) -> "DreamSettings":
        """Refuse any number out of range (NaN and infinity never pass), before any work; the names (``param``,
        ``transforms``) are checked with the dream's parts (:func:`auralize.dream.render.check_settings`)."""
        from .features import N_FRAMES

        checks.number("seconds", self.seconds, lo=5, hi=MAX_SECONDS)
        checks.count("steps", self.steps, 1, 100_000)
        if self.lr is not None:
            checks.number("lr", self.lr, lo=0, lo_open=True, hi=10)
        for name in ("l2", "tv_time", "tv_freq"):
            checks.number(name, getattr(self, name), lo=0, hi=1e3)
        checks.count("jitter", self.jitter, 0, N_FRAMES)
        checks.number("noise", self.noise, lo=0, hi=10)
        checks.count("window_step", self.window_step, 1)
        checks.count("copies", self.copies, 1, MAX_COPIES)
        if self.max_change is not None:
            checks.number("max_change", self.max_change, lo=0, lo_open=True, hi=100)
        checks.count("griffin_lim_iters", self.griffin_lim_iters, 0, 100_000)
        checks.seed(self.seed)
        return self

    def start(self):
        """``init`` as the render loop takes it: noise, silence or mono 4 kHz audio (a file, an array or a
        tensor is read here, and refused at once when it cannot be read or is silent)."""
        if isinstance(self.init, str) and self.init in ("noise", "silence"):
            return self.init
        from .audio import as_audio

        return as_audio(self.init, name="init", max_seconds=MAX_SECONDS)

    def init_record(self) -> dict | None:
        """Which song the dream started from, for its JSON: the file's path and SHA-256 (of the
        samples, for an array); ``None`` for noise or silence."""
        import hashlib

        import numpy as np

        if isinstance(self.init, str) and self.init in ("noise", "silence"):
            return None
        if isinstance(self.init, (str, Path)):
            digest = hashlib.sha256()
            with open(self.init, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            return {"path": str(self.init), "sha256": digest.hexdigest()}
        return {"sha256": hashlib.sha256(np.ascontiguousarray(self.start()).tobytes()).hexdigest()}

    def to_json(self) -> dict:
        """The settings as the dream JSON records them."""
        d = {k: v for k, v in asdict(self).items() if k not in ("init", "extra", "griffin_lim_iters")}
        d["param"] = self.param if isinstance(self.param, str) else getattr(self.param, "name", repr(self.param))
        d["transforms"] = [t if isinstance(t, str) else repr(t) for t in self.transforms]
        d["iters"] = self.griffin_lim_iters  # Griffin-Lim's iterations shape the WAV too
        return {**d, **self.extra}
