"""What did the model listen to? Attributions on real songs, one interface for several methods.

:func:`explain` runs a song through a model clip by clip and attributes each clip's verdict to
its 22x513 input with an attribution method from :data:`METHODS` (Integrated Gradients against a
silence baseline, Saliency; either optionally smoothed by captum's NoiseTunnel). A method is one
:class:`Method` entry: add one with :func:`register_method` and the ``explain`` command offers it.
:func:`listened` makes the attribution audible without phase retrieval: the song's own STFT,
masked by the positive attributions, inverted with the song's own phase. :func:`save_explanation` writes an
explanation's files (the ``explanation`` result kind of :mod:`auralize.results`).
"""
from __future__ import annotations

import importlib
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from . import checks
from . import features as F
from . import results
from .audio import READ_SECONDS, as_audio, duration
from .audiomodel import source
from .errors import AuralizeError
from .registry import Registry

#: Noisy copies NoiseTunnel averages over, and their standard deviation (in model-input units).
NT_SAMPLES, NT_STDEVS = 8, 0.2
#: Inputs per forward/backward pass inside Integrated Gradients.
INTERNAL_BATCH = 64


@dataclass(frozen=True)
class Inputs:
    """What a method's ``arguments`` may use to build the keyword arguments of ``attribute``."""

    x: torch.Tensor  # a batch of model inputs (clips, 22, 513)
    baseline: torch.Tensor  # the silence input (22, 513)
    n_steps: int
    noise_tunnel: bool


@dataclass(frozen=True)
class Method:
    """An attribution method: a captum-style class and the arguments its ``attribute`` takes.

    Parameters
    ----------
    name : canonical name (``integrated_gradients``)
    explainer : the class, called with the model, or its import path ``"module.Class"`` (imported
        when first used, so the registry costs nothing to import)
    arguments : keyword arguments of ``attribute`` for one batch, besides the inputs and target
    aliases : other names the method answers to (``ig``)
    evaluations : gradient evaluations per clip for ``n_steps`` (for the time estimate)
    tunnel_arguments : extra keyword arguments when wrapped in a NoiseTunnel
    help : one line for listings
    """

    name: str
    explainer: str | Callable[[nn.Module], Any]
    arguments: Callable[[Inputs], dict] = lambda inputs: {}
    aliases: tuple[str, ...] = ()
    evaluations: Callable[[int], int] = lambda n_steps: 1
    tunnel_arguments: dict = field(default_factory=dict)
    help: str = ""

    def build(self, forward: Callable, noise_tunnel: bool = False):
        """The attribution object for a forward function (a model, or inputs -> logits), in a NoiseTunnel if asked."""
        cls = self.explainer
        if isinstance(cls, str):
            from .progress import tqdm_class

            tqdm_class()  # captum imports tqdm.auto, which would warn in a notebook without ipywidgets
            module, _, name = cls.rpartition(".")
            cls = getattr(importlib.import_module(module), name)
        explainer = cls(forward)
        if noise_tunnel:
            from captum.attr import NoiseTunnel

            explainer = NoiseTunnel(explainer)
        return explainer


#: Attribution methods by canonical name (lookups ignore case).
METHODS: Registry[Method] = Registry("attribution method", "method", normalise=str.lower)


def register_method(method: Method) -> Method:
    """Add an attribution method (replacing one of the same name); returns it."""
    return METHODS.register(method, aliases=method.aliases)


def method_choices() -> list[str]:
    """Every name a method answers to: canonical names and aliases (the CLI's choices)."""
    return METHODS.choices()


def get_method(method: str) -> Method:
    """The registered method called ``method`` (or an alias of it); a one-line error otherwise."""
    return METHODS[method]


def method_name(method: str) -> str:
    """Canonical method name; raises a one-line error for an unknown one."""
    return get_method(method).name


register_method(Method(
    "integrated_gradients", "captum.attr.IntegratedGradients", aliases=("ig", "integrated-gradients"),
    arguments=lambda i: {"baselines": i.baseline.expand_as(i.x), "n_steps": i.n_steps,
                         "internal_batch_size": INTERNAL_BATCH},
    evaluations=lambda n_steps: n_steps, tunnel_arguments={"nt_samples_batch_size": 1},
    help="Integrated Gradients from silence to the song"))
register_method(Method(
    "saliency", "captum.attr.Saliency",
    # Signed gradients alone; under the noise tunnel captum's default (absolute values) is kept.
    arguments=lambda i: {} if i.noise_tunnel else {"abs": False},
    help="the gradient of the class score"))


@dataclass
class Explanation:
    """Per-clip probabilities, the verdict, and attributions ``(n_clips, 22, 513)``.

    In a notebook it shows itself (``_repr_html_``): the verdict, a player for what the model
    listened to and the figure.
    """

    probabilities: np.ndarray  # (n_clips, n_genres)
    genres: tuple[str, ...]
    target: np.ndarray  # (n_clips,) class each clip's attribution explains
    attributions: np.ndarray  # (n_clips, frames, bins) on the explanation's grid
    psd: np.ndarray  # (n_clips, frames, bins) the song's own power spectrogram on that grid
    method: str
    attention: np.ndarray | None = None  # (n_clips, frames) for the attention model
    audio: np.ndarray | None = None  # the explained samples (mono, at sample_rate), for listened() and players
    name: str = "audio"  # the song's file name (or what the caller called it)
    checkpoint: str = ""
    seed: int = 0
    grid: str = "paper"  # the STFT the attributions are over (GRIDS): the paper's 1024/896, or the fine 512/128
    sample_rate: int = F.SAMPLE_RATE

    @property
    def verdict(self) -> str:
        from .evaluation import vote

        return self.genres[vote(self.probabilities)]

    @property
    def target_genre(self) -> str:
        return self.genres[int(self.target[0])]

    def title(self) -> str:
        return f"{Path(self.name).name}: verdict {self.verdict} ({self.method}, explaining {self.target_genre})"

    def listened(self) -> np.ndarray:
        """What the model listened to: see :func:`listened`."""
        if self.audio is None:
            raise AuralizeError("this explanation holds no audio; explain() keeps it")
        return listened(self.audio, self.attributions, grid=self.grid)

    @property
    def clip_seconds(self) -> float:
        return len(self.audio) / len(self.probabilities) / self.sample_rate if self.audio is not None else F.CLIP_SECONDS

    def to_dict(self) -> dict:
        """The ``explanation`` result payload (see :data:`auralize.results.SCHEMAS`)."""
        return {
            "song": self.name, "checkpoint": self.checkpoint, "genres": list(self.genres), "verdict": self.verdict,
            "target": self.target_genre, "method": self.method, "seed": self.seed,
            "clip_probabilities": np.round(self.probabilities, 4).tolist(),
            "attention": None if self.attention is None else np.round(self.attention, 4).tolist(),
            "files": dict(FILES, attention_png=None),
            # the paper's grid at 4 kHz is what an explanation without these fields was made on
            **({} if self.grid == "paper" else {"grid": self.grid, "sample_rate": self.sample_rate}),
        }

    def _repr_html_(self) -> str:
        import html

        from .plots import explanation_png

        player = ("" if self.audio is None else
                  "<p>What the model listened to:</p>" + results.html_player(self.listened(), F.SAMPLE_RATE,
                                                                             "listened"))
        return (f"<div><p><b>{html.escape(self.title())}</b></p>{player}"
                + results.html_image(explanation_png(self, self.title()), "explanation figure") + "</div>")


#: The files :func:`save_explanation` writes, by role; ``explain.json`` is written last, as the set's marker.
FILES = {"png": "explain.png", "wav": "listened.wav", "wav_22050": "listened-22050.wav",
         "attributions": "attributions.npy"}
RESULT = "explain.json"


def silence_baseline(model) -> torch.Tensor:
    """Model input of silence (22, 513): the PSD floor through the model's scaler."""
    return torch.as_tensor(model.from_psd(np.zeros((F.N_FRAMES, F.N_BINS), np.float32)), dtype=torch.float32)


#: The floor of a fine-grid magnitude explained in the log domain: its log is the silence baseline.
FINE_FLOOR = 1e-5


@dataclass
class _Route:
    """What a model's clips are explained over: an input on an STFT grid and the logits it gives.

    ``x`` ``(clips, frames, bins)`` is attributed; ``forward(x, *extra)`` gives the logits; ``baseline`` is
    silence; ``power`` the clips' own power spectrogram on that grid (for the figure).
    """

    grid: str
    x: torch.Tensor
    forward: Callable
    baseline: torch.Tensor
    power: np.ndarray
    extra: torch.Tensor | None = None  # per clip, passed to forward after x (captum expands it with x)


def _paper_route(model, clips: np.ndarray, name: str) -> _Route:
    """A model that reads the paper's scaled PSD is explained over that very input (its own STFT grid)."""
    psd = F.clips_to_psd(clips, name)  # refuses audio so loud that its spectrogram overflows
    return _Route("paper", torch.from_numpy(model.from_psd(psd)), model, silence_baseline(model), psd)


def _fine_route(model, clips: np.ndarray, name: str) -> _Route:
    """Any other model is explained over the log-magnitude of each clip's fine STFT, its phase kept: the
    clip's audio is rebuilt from it exactly and read through the model's own front end."""
    from .invert import fine_istft, fine_stft

    spec = fine_stft(torch.from_numpy(np.asarray(clips, np.float32)))  # (clips, 257, frames)
    phase = spec / spec.abs().clamp(min=1e-12)
    length = clips.shape[1]

    def forward(logmag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        audio = fine_istft(torch.exp(logmag).transpose(1, 2) * phase, length)
        return model.forward_with_states(model.features(audio))[0]

    x = torch.log(spec.abs() + FINE_FLOOR).transpose(1, 2).contiguous()
    baseline = torch.full(x.shape[1:], float(np.log(FINE_FLOOR)))
    return _Route("fine", x, forward, baseline, (spec.abs() ** 2).transpose(1, 2).numpy(), phase)


def _route(model, clips: np.ndarray, name: str) -> _Route:
    return _paper_route(model, clips, name) if hasattr(model, "from_psd") else _fine_route(model, clips, name)


def _target_index(target: str | None, genres: tuple[str, ...], probs: np.ndarray) -> int:
    from .evaluation import vote

    from .data import pick_genres

    if target is None:
        return vote(probs)
    named = pick_genres(str(target), genres, param="target")
    if len(named) != 1:
        raise AuralizeError(f"target must name one genre, got {target!r}; leave it out for the song's verdict",
                            param="target")
    return genres.index(named[0])


def _limit(audio: np.ndarray, max_seconds: float | None, name: str, clip_samples: int = F.CLIP_SAMPLES,
           sample_rate: int = F.SAMPLE_RATE) -> np.ndarray:
    if max_seconds is None:
        return audio
    clip_seconds = clip_samples / sample_rate
    checks.number("max_seconds", max_seconds, lo=clip_seconds)
    keep = int(max_seconds // clip_seconds) * clip_samples
    if audio.size > keep:
        warnings.warn(f"{name} is {audio.size / sample_rate:.0f} s long; explaining its first {keep // sample_rate} s "
                      f"(max_seconds={max_seconds:g})", stacklevel=3)
        return audio[:keep]
    return audio


def explain(model, audio: str | Path | np.ndarray | torch.Tensor, method: str = "integrated_gradients",
            target: str | None = None, noise_tunnel: bool = False, n_steps: int = 64, chunk: int = 8, seed: int = 0,
            progress: bool = False, name: str = "audio", max_seconds: float | None = READ_SECONDS,
            log: Callable[[str], None] | None = None, sr: int | None = None) -> Explanation:
    """Attribute each clip's prediction to its input, on an STFT grid of the song.

    A model that reads the paper's scaled PSD is explained over that input (the song's 1024/896 STFT);
    any other :class:`~auralize.audiomodel.AudioModel` over the log-magnitude of the song's fine
    512/128 STFT, its phase kept, through the model's own front end (``grid`` of the result).

    Parameters
    ----------
    model : AudioModel
        The classifier.
    audio : str, Path, numpy.ndarray or torch.Tensor
        A song of any length of at least one clip: a path, or samples at ``sr`` Hz (default 4 kHz; see
        :func:`auralize.audio.as_audio`), read at the model's rate.
    method : str
        A registered method (:func:`method_choices`): ``integrated_gradients`` (``ig``) or ``saliency``.
    target : str, optional
        Explain this genre for every clip (default: the song's verdict).
    noise_tunnel : bool
        Average attributions over noisy copies (SmoothGrad).
    n_steps : int
        Integrated Gradients steps (at least 1).
    chunk : int
        Clips per batch (memory stays bounded for long songs).
    seed : int
        Seed of the noise tunnel's noise.
    progress : bool
        Show a progress bar.
    name : str
        What messages and the figure call the song.
    max_seconds : float, optional
        Explain only the first this many seconds (a warning says so; ``None``: all).
    log : callable, optional
        Called with the size of the job before it starts and, after the first batch, the
        expected time of the whole.
    sr : int, optional
        The rate of ``audio`` when it is samples.

    Returns
    -------
    Explanation

    Raises
    ------
    AuralizeError
        For an unknown method or genre, a bad number, audio that is silent, too short or too
        loud for its spectrogram, or a model that gives non-finite probabilities.

    Examples
    --------
    >>> import auralize
    >>> model = auralize.load_model(auralize.default_checkpoint("lstm"))
    >>> song = auralize.load_audio("song.wav")  # doctest: +SKIP
    >>> auralize.explain(model, song, method="saliency").verdict  # doctest: +SKIP
    'jazz'
    """
    from .evaluation import clips_of

    entry = get_method(method)
    n_steps = checks.count("n_steps", n_steps)
    chunk = checks.count("chunk", chunk)
    seed = checks.seed(seed)
    name = str(audio) if isinstance(audio, (str, Path)) and name == "audio" else name
    rate, clip = int(model.sample_rate), int(model.clip_samples)
    audio = _limit(as_audio(audio, sr, max_seconds=max_seconds, to=rate), max_seconds, name, clip, rate)
    route = _route(model, clips_of(model, audio, name), name)  # refuses audio so loud its spectrogram overflows
    if isinstance(model, nn.Module):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
    with torch.no_grad():
        logits, states = model.forward_with_states(route.x if route.grid == "paper" else model.features(
            torch.from_numpy(clips_of(model, audio, name))))
    probs = torch.softmax(logits, 1).numpy()
    if not np.isfinite(probs).all():
        raise AuralizeError(f"the model gives non-finite probabilities (NaN) for {name}; its checkpoint "
                            f"{getattr(model, 'path', '')} may be damaged")
    genres = tuple(model.genres)
    targets = np.full(len(route.x), _target_index(target, genres, probs))
    clip_seconds = int(model.clip_samples) / int(model.sample_rate)
    attributions = _attribute(entry, route, targets, noise_tunnel, n_steps, chunk, seed, progress, name, log,
                              clip_seconds)
    attention = states.get("attention.alpha")
    clips = len(route.x) * int(model.clip_samples)
    return Explanation(probs, genres, targets, attributions, route.power,
                       entry.name + (" + noise tunnel" if noise_tunnel else ""),
                       None if attention is None else attention.numpy(), audio[:clips], name,
                       source(model), seed, route.grid, int(model.sample_rate))


def _attribute(entry: Method, route: _Route, targets: np.ndarray, noise_tunnel: bool, n_steps: int, chunk: int,
               seed: int, progress: bool, name: str, log, clip_seconds: float) -> np.ndarray:
    """Attributions of every clip of ``route`` to its target, ``chunk`` clips at a time."""
    from .progress import bar as tqdm  # a bar that suits a notebook too

    explainer = entry.build(route.forward, noise_tunnel)
    evaluations = entry.evaluations(n_steps) * (NT_SAMPLES if noise_tunnel else 1)
    x = route.x
    if log:
        log(f"explaining {len(x)} clips ({len(x) * clip_seconds:g} s) with {entry.name}"
            f"{' + noise tunnel' if noise_tunnel else ''}: "
            f"{evaluations} gradient evaluations per clip")
    torch.manual_seed(seed)
    out = []
    started = time.perf_counter()
    for i in tqdm(range(0, len(x), chunk), desc="explaining", unit="chunk", disable=not progress, leave=False):
        xb = x[i:i + chunk].clone().requires_grad_(True)
        kwargs = entry.arguments(Inputs(xb, route.baseline, n_steps, noise_tunnel))
        if noise_tunnel:
            kwargs.update(nt_type="smoothgrad", nt_samples=NT_SAMPLES, stdevs=NT_STDEVS, **entry.tunnel_arguments)
        if route.extra is not None:
            kwargs["additional_forward_args"] = (route.extra[i:i + chunk],)
        out.append(explainer.attribute(xb, target=torch.from_numpy(targets[i:i + chunk]), **kwargs).detach())
        if i == 0 and log and len(x) > chunk:
            took = time.perf_counter() - started
            log(f"the first {len(xb)} clips took {took:.1f} s: about {duration(took * len(x) / len(xb))} in all")
    attributions = torch.cat(out).numpy()
    if not np.isfinite(attributions).all():
        raise AuralizeError(f"{entry.name} gives non-finite attributions for {name}; the model's gradients "
                            "overflow (is its checkpoint damaged?)")
    return attributions


def listened(audio: np.ndarray, attributions: np.ndarray, floor: float = 0.0, grid: str = "paper") -> np.ndarray:
    """The song's own STFT masked by the positive attributions, inverted with its own phase.

    The mask of each clip is its positive attribution scaled to [0, 1] by the clip's 99th
    percentile; ``floor`` keeps that much of everything else. ``grid`` is the STFT the attributions
    are over (``paper``: 1024/896 frames x 513 bins; ``fine``: 512/128 frames x 257 bins). Returns audio
    as long as the clips.
    """
    from .invert import fine_istft, fine_stft, istft, stft

    n = len(attributions)
    clips = np.asarray(audio, np.float32).reshape(n, -1)[:, : len(audio) // n]
    pos = np.clip(attributions, 0, None)
    scale = np.quantile(pos.reshape(len(pos), -1), 0.99, axis=1)[:, None, None]
    mask = np.clip(pos / np.maximum(scale, 1e-12), 0, 1)
    mask = floor + (1 - floor) * mask
    if grid == "paper":
        clips = F.split_clips(np.asarray(audio, np.float32))[:n]
        spec = stft(torch.from_numpy(clips.astype(np.float64)))
        out = istft(spec * torch.from_numpy(mask), F.CLIP_SAMPLES).numpy()
    elif grid == "fine":
        spec = fine_stft(torch.from_numpy(clips.astype(np.float64)))
        out = fine_istft(spec * torch.from_numpy(mask).transpose(1, 2), clips.shape[1]).numpy()
    else:
        raise AuralizeError(f"grid must be paper or fine, got {grid!r}", param="grid")
    return out.reshape(-1).astype(np.float32)


def default_folder(song: str | Path) -> Path:
    """Where the files of a song's explanation go by default: ``explain-<song stem>/``."""
    return Path(f"explain-{Path(song).stem}")


def check_folder(folder: str | Path) -> Path:
    """``folder`` if it can hold the files of :func:`save_explanation`; creates nothing (so a failure leaves nothing).

    Raises
    ------
    AuralizeError
        If ``folder`` is a file, or the nearest existing folder above it is not writable.
    """
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise AuralizeError(f"{existing} is a file; give a folder for the explanation")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AuralizeError(f"cannot write into {existing}; choose a writable output folder")
    return folder


def save_explanation(explanation: Explanation, folder: str | Path | None = None) -> dict[str, Path]:
    """Write an explanation's files into ``folder`` (default :func:`default_folder`); returns them by role.

    ``explain.png`` (the figure), ``listened.wav`` and ``listened-22050.wav`` (what the model
    listened to), ``attributions.npy`` and, last, ``explain.json`` (the ``explanation`` result):
    a folder without it is incomplete, and the gallery ignores it.
    """
    from .io import atomic_save_npy, save_wav
    from .plots import explanation_figure

    exp = explanation
    payload = exp.to_dict()
    results.validate("explanation", payload, f"the explanation of {exp.name}")  # before any file is written
    folder = check_folder(folder if folder is not None else default_folder(exp.name))
    heard = exp.listened()
    written = {"png": explanation_figure(exp, folder / FILES["png"], exp.title()),
               "wav": save_wav(folder / FILES["wav"], heard, F.SAMPLE_RATE)}
    written["wav_22050"] = save_wav(results.wav_22050(written["wav"]), F.resample(heard, F.SAMPLE_RATE, 22050), 22050)
    written["attributions"] = atomic_save_npy(folder / FILES["attributions"], exp.attributions.astype(np.float32))
    written["json"] = results.write(folder / RESULT, "explanation", payload)
    return written
