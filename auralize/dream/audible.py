"""Make a genre audible, end to end: genre -> objective -> ascent -> audio -> files -> round trip.

This is what ``auralize --genre jazz`` runs. For each genre it writes, with a common stem:
``<stem>.wav`` (16-bit PCM, 4 kHz, at a listening level: :func:`listening_level`), ``<stem>-22050.wav`` (the same at 22050 Hz for players that
dislike 4 kHz), ``<stem>.npy`` (the optimised PSD, frames x 513, for ``auralize invert``),
``<stem>.png`` (its spectrogram beside a real clip of the genre, when data is given) and
``<stem>.json`` (a ``dream`` result: objective, settings, seed, objective curve and the round
trip: the WAV read back from disk, through the front end, into the same model).

Everything is checked before anything is written, and each dream's five files are written as
one unit: each goes to a temporary file first, then all are renamed into place with the JSON
last. SIGINT and SIGTERM wait while a set is written (a second or two; the first set also loads
the panel's libraries), so a WAV is never left without its JSON and PNG, and no temporary file is
left behind.
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .. import checks, signals
from .. import features as F
from .. import results
from ..audio import as_audio
from ..data import pick_genres
from ..errors import AuralizeError
from ..invert import MAX_SECONDS
from .objectives import Objective, class_logit, class_logprob, neuron, prior_match, regulariser
from .params import get_param
from .render import n_frames, render, round_trip, to_audio
from .transforms import by_domain, from_names

OBJECTIVES = ("neuron", "class", "logit")
#: The genre prior's default weight and caricature (issue 8's study: docs/results/dream-study.md).
PRIOR_WEIGHT, CARICATURE = 0.5, 1.0
RULES = ("last", "mean", "max")


@dataclass(frozen=True)
class Target:
    """What a genre's dream maximises.

    ``neuron`` (the paper's): the neuron most commonly active when the model predicts the genre
    (from the saved neuron statistics), or ``unit`` of ``layer`` when given, plus
    ``class_weight`` times the genre's log-probability so the dream stays recognisable
    (``class_weight=0`` is the pure neuron objective). ``class``: the genre's log-probability;
    ``logit``: its logit.

    To any of them, ``prior_weight`` times :func:`~auralize.dream.objectives.prior_match` is added:
    the pull of the dream's audio towards the statistics of real clips of the genre (the genre
    prior ``prior``, default the shipped ``trained/genre-prior.npz``), exaggerated away from the
    other genres by ``caricature`` (:meth:`~auralize.dream.prior.GenrePrior.target`). ``None`` means
    :data:`PRIOR_WEIGHT` for a parameterisation that holds audio and 0 for the spectrogram (the
    prior reads audio); 0 turns it off.
    """

    objective: str = "neuron"
    layer: str | None = None
    unit: int | None = None
    rule: str = "mean"
    class_weight: float = 1.0
    prior_weight: float | None = None
    prior: str | Path | None = None
    caricature: float = CARICATURE

    def check(self) -> "Target":
        if self.objective not in OBJECTIVES:
            raise AuralizeError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}",
                                param="objective")
        if self.rule not in RULES:
            raise AuralizeError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}", param="rule")
        if self.unit is not None:
            checks.count("unit", self.unit, 0)
        checks.number("class_weight", self.class_weight, lo=-1e3, hi=1e3)
        if self.prior_weight is not None:
            checks.number("prior_weight", self.prior_weight, lo=0, hi=1e3)
        checks.number("caricature", self.caricature, lo=0, hi=10)
        return self

    def prior_weight_for(self, param: str) -> float:
        """The weight of the prior for a parameterisation (see the class docstring); refuses a
        weight > 0 on one without audio."""
        has_audio = get_param(param).has_audio
        if self.prior is not None and not has_audio and not self.prior_weight == 0:  # never ignored silently
            raise AuralizeError(f"the genre prior {self.prior} reads the dream's audio, which the {param} "
                                "parameterisation does not hold: use --param fine or waveform, or leave out --prior",
                                param="prior")
        if self.prior_weight is None:
            return PRIOR_WEIGHT if has_audio else 0.0
        if self.prior_weight > 0 and not has_audio:
            raise AuralizeError(f"the genre prior reads the dream's audio, which the {param} parameterisation does not "
                                "hold: use --param fine or waveform, or --prior-weight 0", param="prior_weight")
        return self.prior_weight


@dataclass(frozen=True)
class DreamSettings:
    """How to dream: parameterisation, length, ascent, penalties, transforms, audio and seed.

    ``l2``/``tv_time``/``tv_freq`` weigh the penalties; ``clamp`` keeps the input within the
    range of real inputs; ``jitter`` (frames, at most one clip: 22) and ``noise`` set the
    parameterisation's default transforms and ``transforms`` adds robustness transforms by name
    (:data:`~auralize.dream.transforms.TRANSFORMS`; ``name:value`` sets a transform's first setting);
    ``copies`` transformed copies are averaged at every step. ``init`` is ``noise``, ``silence``, mono
    4 kHz audio or the path of an audio file; ``max_change`` bounds how far every optimised value may
    move from its start (with a song as ``init``: genre transfer or accentuation that stays near it).
    """

    param: str = "fine"
    seconds: float = 5.0
    steps: int = 200
    lr: float | None = None
    init: str | Path | np.ndarray = "noise"
    l2: float = 0.01
    tv_time: float = 0.05
    tv_freq: float = 0.05
    clamp: bool = True
    jitter: int = 1
    noise: float = 0.1
    transforms: tuple[str, ...] = ()
    window_step: int = 11
    copies: int = 1
    max_change: float | None = None
    griffin_lim_iters: int = 100
    seed: int = 0
    extra: dict = field(default_factory=dict, compare=False)  # room for new settings in the JSON

    def check(self) -> "DreamSettings":
        """Refuse any setting out of range (NaN and infinity never pass), before any work."""
        get_param(self.param)
        n_frames(self.seconds)
        checks.count("steps", self.steps, 1, 100_000)
        if self.lr is not None:
            checks.number("lr", self.lr, lo=0, lo_open=True, hi=10)
        for name in ("l2", "tv_time", "tv_freq"):
            checks.number(name, getattr(self, name), lo=0, hi=1e3)
        checks.count("jitter", self.jitter, 0, F.N_FRAMES)
        checks.number("noise", self.noise, lo=0, hi=10)
        checks.count("window_step", self.window_step, 1)
        checks.count("copies", self.copies, 1, 256)
        if self.max_change is not None:
            checks.number("max_change", self.max_change, lo=0, lo_open=True, hi=100)
        checks.count("griffin_lim_iters", self.griffin_lim_iters, 0, 100_000)
        checks.count("seed", self.seed, 0, 2**32 - 1)
        by_domain(self.all_transforms(), get_param(self.param).has_audio)  # an audio transform needs audio
        return self

    def all_transforms(self) -> list:
        """The parameterisation's jitter and noise, then the named robustness transforms."""
        return get_param(self.param).default_transforms(self.jitter, self.noise) + from_names(list(self.transforms))

    def penalty(self) -> Objective | None:
        return regulariser(self.l2, self.tv_time, self.tv_freq, self.clamp)

    def start(self) -> str | np.ndarray:
        """``init`` as render takes it: noise, silence or audio (a file is read here, and refused
        at once when it cannot be read or is silent)."""
        if isinstance(self.init, str) and self.init in ("noise", "silence"):
            return self.init
        return as_audio(self.init, name="init", max_seconds=MAX_SECONDS)

    def init_record(self) -> dict | None:
        """Which song the dream started from, for its JSON: the file's path and SHA-256 (of the
        samples, for an array); ``None`` for noise or silence."""
        import hashlib

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
        d["transforms"] = list(self.transforms)
        d["iters"] = self.griffin_lim_iters  # Griffin-Lim's iterations shape the WAV too
        return {**d, **self.extra}


def dream_stems(genres: Sequence[str], out: str | Path | None = None) -> list[Path]:
    """Where each genre's dream goes, checked before any work.

    One genre: ``out`` is the WAV path (default ``quintessential-<genre>.wav``); an existing
    folder, or a path ending in a slash, is a folder to write it into, and ``.wav`` is added to a name without it (``take1.5``
    gives ``take1.5.wav``). Several genres: ``out`` is a folder (default ``quintessential/``) of
    ``<genre>.wav`` and so on.
    """
    from ..io import ensure_writable, means_folder

    into = out is not None and means_folder(out)  # an existing folder, or "run3/" (a trailing slash)
    out = None if out is None else Path(out)
    if len(genres) == 1:
        wav = out or Path(f"quintessential-{genres[0]}.wav")
        if into:
            wav = wav / f"quintessential-{genres[0]}.wav"
        elif wav.suffix.lower() != ".wav":
            wav = wav.with_name(wav.name + ".wav")
        stems = [wav.with_name(wav.name[:-len(".wav")])]
    else:
        if out is not None and out.exists() and not out.is_dir():
            raise AuralizeError(f"out must be a folder for several genres; {out} is a file", param="out")
        folder = out or Path("quintessential")
        stems = [folder / g for g in genres]
    for stem in stems:
        for path in results.dream_files(stem).values():
            if path.is_dir():
                raise AuralizeError(f"{path} is a directory; the dream's files need that name (choose another out)",
                                    param="out")
    for folder in {stem.parent for stem in stems}:
        ensure_writable(folder)
    return stems


def real_clips(data_dir: str | Path, genres: Sequence[str]) -> dict[str, np.ndarray]:
    """One real clip per genre (the first track of the genre, its middle 5 s), drawn beside the dreams."""
    from ..data import discover

    tracks, _ = discover(data_dir)
    real = {}
    for g in genres:
        mine = [t for t in tracks if t.genre == g]
        if mine:
            try:
                clips = F.split_clips(F.load_audio(mine[0].path), str(mine[0].path))
                real[g] = clips[len(clips) // 2]
            except AuralizeError as exc:
                warnings.warn(str(exc))
    return real


LISTENING_RMS = 0.05  # -26 dBFS: about the level of a GTZAN track


def listening_level(audio: np.ndarray, rms: float = LISTENING_RMS) -> np.ndarray:
    """Each row of ``audio`` without its mean (a DC offset, which the ascent can leave at a tenth of
    the RMS: no speaker plays it and it eats headroom), scaled to ``rms`` (peaks kept <= 0.99): a
    dream's level is whatever the ascent left (the prior and the panel ignore level), often too quiet
    to hear. The round trip and the panel judge the WAV at this level."""
    audio = np.asarray(audio, np.float64)
    audio = (audio - audio.mean(axis=-1, keepdims=True)).astype(np.float32)
    level = np.sqrt(np.mean(audio.astype(np.float64) ** 2, axis=-1, keepdims=True))
    peak = np.abs(audio).max(axis=-1, keepdims=True)
    gain = np.where(level > 1e-9, np.minimum(rms / np.maximum(level, 1e-12), 0.99 / np.maximum(peak, 1e-12)), 1.0)
    return (audio * gain).astype(np.float32)


def temporal(audio: np.ndarray) -> dict[str, float]:
    """Temporal statistics of audio (mean over its 5-s clips): does it change over time as music does?"""
    from ..panel.temporal import mean_temporal_stats

    return {k: round(v, 4) for k, v in mean_temporal_stats(F.split_clips(audio)).items()}


def genre_objective(model: nn.Module, genre: str, target: Target = Target(), report=None, prior=None,
                    prior_weight: float = 0.0) -> Objective:
    """The objective of one genre's dream (see :class:`Target`); ``report``: neuron statistics;
    ``prior``: a loaded :class:`~auralize.dream.prior.GenrePrior`, added with ``prior_weight``."""
    target.check()
    aim = _model_objective(model, genre, target, report)
    if prior is not None and prior_weight > 0:
        return aim + prior_weight * prior_match(prior, genre, target.caricature)
    return aim


def _model_objective(model: nn.Module, genre: str, target: Target, report) -> Objective:
    from ..neurons import check_layer, default_layer

    index = model.genres.index(genre)
    if target.objective == "class":
        return class_logprob(index, genre)
    if target.objective == "logit":
        return class_logit(index, genre)
    layer, rule, unit = target.layer, target.rule, target.unit
    if unit is None:
        if report is None:
            raise AuralizeError("the neuron objective needs neuron statistics: run 'auralize neurons CHECKPOINT "
                                "--data DIR' first, give --unit, or use --objective class")
        layer, rule, unit = report.layer, report.rule, report.top_unit(genre)
    layer = layer or default_layer(model)
    check_layer(model, layer)
    size = model.forward_with_states(torch.zeros(1, F.N_FRAMES, F.N_BINS))[1][layer].shape[-1]
    if not 0 <= unit < size:
        raise AuralizeError(f"neuron {unit} is out of range for {layer}, which has {size} units (0-{size - 1})",
                            param="unit")
    obj = neuron(layer, unit, rule)
    return obj + target.class_weight * class_logprob(index, genre) if target.class_weight else obj


def _prior_for(target: Target, param: str, genres: Sequence[str]):
    """The prior's weight, the loaded prior (``None`` when off) and the genres it covers. A prior asked for explicitly
    (a weight or a file) must be there and know every genre; the default one, when missing or
    without a genre, is left out with a warning, so the dream is still made."""
    from .prior import load_prior

    weight = target.prior_weight_for(param)
    if weight <= 0:
        return 0.0, None, []
    explicit = target.prior_weight is not None or target.prior is not None
    try:
        prior = load_prior(target.prior)
    except AuralizeError as exc:
        if explicit:
            raise
        warnings.warn(f"dreaming without the genre prior: {exc}")
        return 0.0, None, []
    covered = prior.covers(genres)
    missing = [g for g in genres if g not in covered]
    if missing:
        if explicit:
            prior.index(missing[0])  # raises, naming the genre
        warnings.warn(f"the genre prior has no clips of {', '.join(missing)}; those dreams are made without it")
    return weight, prior, covered


def load_panel() -> list | None:
    """The held-out listening panel's judges, or ``None`` (with a warning) when they are not there."""
    from ..panel import PANEL, load_judge

    try:
        return [load_judge(name) for name in PANEL]
    except AuralizeError as exc:
        warnings.warn(f"no panel verdict for the dreams: {exc}")
        return None


def _write_dream(model, genre: str, stem: Path, audio: np.ndarray, psd: np.ndarray, description: str,
                 curve: np.ndarray, settings: dict, real: np.ndarray | None, judges: list | None,
                 init: dict | None = None) -> dict:
    """Write one dream's files as a unit (see the module docstring); returns its summary."""
    from ..io import atomic_path, atomic_save_npy, save_wav
    from ..plots import dream_figure

    files = results.dream_files(stem)
    # Signals wait until this dream's set is written (a second or two), so a set is whole or absent.
    # Not only the renames: an interrupt inside the C code this work runs (soundfile, numba, an
    # import) can crash the process before any clean-up, and that leaves temporary files behind.
    with signals.held(), contextlib.ExitStack() as stack:
        # Entered JSON first, so the stack renames it last: a JSON means the set is complete.
        tmp = {k: stack.enter_context(atomic_path(files[k])) for k in ("json", "png", "spectrogram", "wav_22050",
                                                                        "wav")}
        save_wav(tmp["wav"], audio, F.SAMPLE_RATE)
        save_wav(tmp["wav_22050"], F.resample(audio, F.SAMPLE_RATE, 22050), 22050)
        atomic_save_npy(tmp["spectrogram"], psd.astype(np.float32))
        heard = F.load_audio(tmp["wav"])  # the file as written, read back
        trip = round_trip(model, heard, genre)
        panel = None
        if judges:
            from ..panel.verdict import panel_verdict

            panel = panel_verdict(str(files["wav"]), F.split_clips(heard), judges, genre).to_dict()
        time_stats = {"dream": temporal(heard), **({"real": temporal(real)} if real is not None else {})}
        dream_figure(psd, genre, tmp["png"], description, trip, None if real is None else F.spectrogram(real),
                     panel, time_stats)
        summary = {
            "genre": genre, "checkpoint": str(getattr(model, "path", "")), "model": model.config.kind,
            "objective": description, "settings": settings,
            "objective_start": float(curve[0]), "objective_end": float(curve[-1]),
            "objective_curve": [round(float(v), 5) for v in curve],
            "round_trip": trip, "temporal": time_stats,
            "files": {k: str(v) for k, v in files.items() if k != "json"},
        }
        if panel is not None:
            summary["panel"] = panel
        if init is not None:
            summary["init"] = init  # which song it started from: its path and hash
        results.write(tmp["json"], "dream", summary)
    return summary


def make_audible(model: nn.Module | str | Path | None, genres: str | Sequence[str], out: str | Path | None = None, *,
                 target: Target = Target(), settings: DreamSettings = DreamSettings(), report=None,
                 data_dir: str | Path | None = None, panel: bool = True, progress: bool = False) -> list[dict]:
    """Dream genres and write each one's files; returns one summary (the JSON's content) per genre.

    Parameters
    ----------
    model : a loaded model, a checkpoint path, or ``None`` for the shipped LSTM
    genres : a genre, ``all``, or a list of genres
    out : WAV path for one genre, folder for several (see :func:`dream_stems`)
    target, settings : what to maximise and how (:class:`Target`, :class:`DreamSettings`)
    report : neuron statistics for the neuron objective (default: those saved beside the checkpoint)
    data_dir : optional data folder; a real clip of each genre is drawn beside its dream
    panel : judge each dream (the WAV as written, read back) with the held-out listening panel
        (:data:`auralize.panel.PANEL`), whose models no dream is optimised against
    """
    from ..checkpoint import load_model
    from ..io import refuse_overwriting
    from ..neurons import load_report

    target.check()
    settings.check()
    if not isinstance(model, nn.Module):
        from .. import default_checkpoint

        model = load_model(model or default_checkpoint("lstm"))
    names = pick_genres(genres, model.genres)
    start = settings.start()  # a missing, unreadable or silent song fails here, before any folder is made
    stems = dream_stems(names, out)
    refuse_overwriting([f for stem in stems for f in results.dream_files(stem).values()],
                       {"init": settings.init if isinstance(settings.init, (str, Path)) else None,
                        "checkpoint": getattr(model, "path", None), "prior": target.prior})
    if report is None and target.objective == "neuron" and target.unit is None and getattr(model, "path", None):
        report = load_report(model.path, target.layer)
    weight, prior, covered = _prior_for(target, settings.param, names)
    objectives = [genre_objective(model, g, target, report, prior, weight if g in covered else 0.0) for g in names]
    real = real_clips(data_dir, names) if data_dir else {}
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)  # no silent minute
    if panel:
        say("loading the held-out listening panel...")
    judges = load_panel() if panel else None
    with signals.terminate_as_interrupt():
        result = render(model, objectives, param=get_param(settings.param), transforms=settings.all_transforms(),
                        penalty=settings.penalty(), seconds=settings.seconds, steps=settings.steps, lr=settings.lr,
                        init=start, clamp=settings.clamp, window_step=settings.window_step, copies=settings.copies,
                        max_change=settings.max_change,
                        seed=settings.seed,
                        progress=progress)
        say(f"making the audio ({settings.griffin_lim_iters} Griffin-Lim iterations), then writing each dream"
            + (" and judging it with the panel (the first run also compiles the panel's feature code)" if judges else ""))
        audio = listening_level(to_audio(result, n_iter=settings.griffin_lim_iters, seed=settings.seed))
        psd = result.psd()
        recorded = {**settings.to_json(), **result.settings, "prior_weight": weight, "caricature": target.caricature,
                    "level_rms": LISTENING_RMS,
                    "prior": str(prior.meta.get("path", "")) if prior is not None else None}
        init = settings.init_record()
        return [_write_dream(model, genre, stem, audio[b], psd[b], result.descriptions[b], result.curve[:, b],
                             recorded, real.get(genre), judges, init) for b, (genre, stem) in enumerate(zip(names, stems))]
