"""What every tool needs of a model: the :class:`AudioModel` protocol, its defaults, and :func:`wrap`.

A model owns its front end. The neuron tools, dreams, explanations, predictions and evaluations
ask a model only for what :class:`AudioModel` names: its genres, the audio it reads (sample rate,
clip length), a differentiable ``features(audio)`` giving its input, and
``forward_with_states(input)`` giving logits and named internal states. The paper's models
(:class:`auralize.models.PaperModel`) are one implementation; any ``torch.nn.Module`` becomes
another with :func:`wrap`, which names its states by forward hooks (as Lucent's ``hook_model``
does); a user's Python file that builds one is loaded with :func:`load_user_model`
(``--checkpoint my_model.py:build``).

The functions here give every tool one way to ask a model for what it may or may not have
(:func:`model_input`, :func:`input_bounds`, :func:`state_sizes`, :func:`default_layer`, ...), so no
tool looks for optional attributes itself.
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import nn

from .errors import AuralizeError

#: What a model must have, in the order a missing one is reported.
REQUIRED = ("genres", "sample_rate", "clip_samples", "features", "forward_with_states")
MAX_SAMPLE_RATE = 384_000
MAX_CLIP_SECONDS = 60


@runtime_checkable
class AudioModel(Protocol):
    """What every tool needs of a genre classifier on audio.

    Attributes
    ----------
    genres : tuple of str
        One distinct name per output of the classifier.
    sample_rate : int
        The rate, in Hz, of the mono audio it reads.
    clip_samples : int
        How many samples one input holds (the paper's models: 20000, 5 s at 4 kHz).

    Optional members a tool uses when present: ``input_layout`` (``"frames, bins"`` when the input is
    a time x frequency grid, as the paper's is), ``input_bounds()`` (per-element range of the input,
    for the spectrogram parameterisation and the out-of-range penalty), ``inverse(x, n_iter, seed)``
    (input back to audio, for the spectrogram parameterisation), ``model_input(clips)`` (an exact,
    non-differentiable ``features`` for numpy clips), ``default_layer()``, ``weight_rows(gate)``
    (first-layer rows as spectra, for ``auralize weights``), ``unit_layer(layer)`` (ablation), ``name``.
    """

    genres: tuple[str, ...]
    sample_rate: int
    clip_samples: int

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """Differentiable: audio ``(batch, samples)`` -> model input ``(batch, ...)``."""

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits ``(batch, len(genres))`` and named states ``(batch, units)`` or ``(batch, time, units)``."""


def _refuse(where: str, what: str) -> AuralizeError:
    return AuralizeError(f"{where} {what}; a model needs {', '.join(REQUIRED)} (wrap a torch module with "
                         "auralize.wrap(net, features=..., genres=..., sample_rate=...))", param="model")


def check_model(model, where: str = "the model"):
    """``model`` if it is an :class:`AudioModel` that answers a probe clip sensibly, else a one-line error.

    Checks, in order: every attribute of :data:`REQUIRED` is there; the genres are distinct
    non-empty names; the sample rate and clip length are whole numbers in range; one clip of quiet
    noise through ``features`` and ``forward_with_states`` gives finite logits, one per genre, and
    states that are tensors.
    """
    missing = next((a for a in REQUIRED if not hasattr(model, a)), None)
    if missing:
        raise _refuse(where, f"is a {type(model).__name__} without {missing!r}")
    genres = model.genres
    if (not isinstance(genres, (tuple, list)) or not genres or not all(isinstance(g, str) and g for g in genres)
            or len(set(genres)) != len(genres)):
        raise _refuse(where, f"has genres {genres!r:.60}, not a list of distinct non-empty names")
    for name, lo, hi in (("sample_rate", 1000, MAX_SAMPLE_RATE),
                         ("clip_samples", 256, MAX_CLIP_SECONDS * getattr(model, "sample_rate", 0))):
        value = getattr(model, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise _refuse(where, f"has {name} {value!r:.40}, not a whole number from {lo} to {hi}")
    logits, states = _probe(model, where)
    if logits.ndim != 2 or logits.shape != (1, len(genres)):
        raise AuralizeError(f"{where} gives {tuple(logits.shape[1:]) or 'a scalar'} outputs for its "
                            f"{len(genres)} genres; its output size must be the number of its genres", param="model")
    return model


def _probe(model, where: str) -> tuple[torch.Tensor, dict]:
    """Logits and states of one clip of quiet noise (fixed), without gradients."""
    audio = 1e-3 * torch.randn(1, int(model.clip_samples), generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            out = model.forward_with_states(model.features(audio))
    except Exception as exc:  # the user's code: any exception, said in one line
        raise AuralizeError(f"{where} fails on one clip of audio ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})", param="model") from None
    if not (isinstance(out, tuple) and len(out) == 2 and torch.is_tensor(out[0]) and isinstance(out[1], dict)):
        raise AuralizeError(f"{where}: forward_with_states must return (logits, dict of states), got "
                            f"{type(out).__name__}", param="model")
    logits, states = out
    bad = next((k for k, v in states.items() if not (isinstance(k, str) and torch.is_tensor(v))), None)
    if bad is not None:
        raise AuralizeError(f"{where}: state {bad!r:.40} is not a tensor named by a string", param="model")
    if not torch.isfinite(logits).all():
        raise AuralizeError(f"{where} gives non-finite outputs on quiet noise (is it damaged?)", param="model")
    return logits, states


def state_sizes(model) -> dict[str, int]:
    """Units of each named state (its last axis), in the model's order."""
    return {k: int(v.shape[-1]) for k, v in _probe(model, "the model")[1].items()}


def check_layer(model, layer: str) -> int:
    """The number of units of state ``layer``; a one-line error naming the states if it has none."""
    sizes = state_sizes(model)
    if layer not in sizes:
        raise AuralizeError(f"unknown layer {layer!r} for this {label(model)} model; choose one of "
                            f"{', '.join(sizes) or '(it has no states)'}", param="layer")
    return sizes[layer]


def default_layer(model) -> str:
    """The state whose neurons the neuron tools and neuron dreams use by default (the model's choice)."""
    if hasattr(model, "default_layer"):
        return model.default_layer()
    raise AuralizeError(f"a {label(model)} model names no default layer; give one (--layer)", param="layer")


def label(model) -> str:
    """A short name of the model for messages and result files (the paper's kind, or a wrapped model's name)."""
    config = getattr(model, "config", None)
    return str(getattr(config, "kind", None) or getattr(model, "name", None) or type(model).__name__)


def _where(model) -> str | Path | None:
    """Where a model (or the path or ``file.py:function`` given for it) came from."""
    if isinstance(model, (str, Path)):
        return model
    return getattr(model, "spec", None) or getattr(model, "path", None)


def origin(model) -> Path | None:
    """The file a model came from: its checkpoint, or the Python file of ``my_model.py:build``; ``None`` if none.

    ``model`` is a model, or the checkpoint path or ``file.py:function`` it was loaded from.
    """
    where = _where(model)
    match = SPEC.match(str(where)) if where is not None else None
    return Path(match["file"]) if match else (None if where is None else Path(where))


def file_stem(model) -> str:
    """The stem of the files auralize writes about a model: ``lstm`` for ``trained/lstm.pt``,
    ``my_model.build`` for ``my_model.py:build``, else the model's label."""
    where = _where(model)
    match = SPEC.match(str(where)) if where is not None else None
    if match:
        return f"{Path(match['file']).stem}.{match['function'] or 'build'}"
    return Path(where).stem if where is not None else label(model)


def source(model) -> str:
    """Where a model came from, as result files record it: ``my_model.py:build``, a checkpoint, or ``""``."""
    return str(_where(model) or "")


def source_for_workers(model) -> str:
    """:func:`source`, which each worker process of ``jobs`` above 1 loads the model from.

    Raises
    ------
    AuralizeError
        If the model came from no file (built in memory).
    """
    where = source(model)
    if not where:
        raise AuralizeError("jobs above 1 need a model that came from a file (each worker loads it); save it, or use "
                            "jobs=1", param="jobs")
    return where


def model_device(model) -> torch.device:
    """Where a model's weights are (the CPU for a model without any); its inputs go there."""
    params = next(iter(model.parameters()), None) if isinstance(model, nn.Module) else None
    return params.device if params is not None else torch.device("cpu")


def forward_batches(model, x, batch: int) -> Iterator[tuple[torch.Tensor, dict]]:
    """The model's ``(logits, states)`` on model inputs ``x``, ``batch`` rows at a time, in eval mode and on its
    device. ``x`` is an array or tensor, or rows read as they are asked for (a feature store's), so no more
    than a batch of them is in memory."""
    if isinstance(model, nn.Module):
        model.eval()
    x = torch.as_tensor(x, dtype=torch.float32) if isinstance(x, np.ndarray) else x
    device = model_device(model)
    for i in range(0, len(x), batch):  # any AudioModel, not only a module's forward
        yield model.forward_with_states(torch.as_tensor(x[i:i + batch], dtype=torch.float32).to(device))


def model_input(model, clips: np.ndarray, name: str = "audio") -> torch.Tensor:
    """Model input of numpy clips ``(n, clip_samples)``: the model's own exact path if it has one
    (``model_input``), else ``features`` without gradients."""
    if hasattr(model, "model_input"):
        return model.model_input(clips, name)
    with torch.no_grad():
        return model.features(torch.as_tensor(np.asarray(clips, np.float32)))


def frames_by_bins(model) -> bool:
    """Whether the model's input is a ``(batch, frames, bins)`` grid (``input_layout``), as the paper's is:
    what the transforms that act on the model input (masks, frequency shifts) and the spectrogram
    parameterisation need."""
    return getattr(model, "input_layout", None) == "frames, bins"


def input_bounds(model) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The per-element range ``(lo, hi)`` of the model's input, or ``None`` when the model does not say."""
    return model.input_bounds() if hasattr(model, "input_bounds") else None


def check_differentiable(model, param_name: str) -> None:
    """Refuse, before a dream, a model whose ``features`` passes no gradient to the audio.

    The message says which parameterisations still work (the spectrogram one needs no gradient
    through ``features``, only ``input_bounds`` and ``inverse``).
    """
    audio = (1e-2 * torch.randn(1, int(model.clip_samples), generator=torch.Generator().manual_seed(0))
             ).requires_grad_(True)
    try:
        x = model.features(audio)
        # A random direction, not the sum: a front end that removes the mean has a constant sum.
        direction = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
        grad = torch.autograd.grad((x.float() * direction).sum(), audio, allow_unused=True)[0] \
            if torch.is_tensor(x) and x.requires_grad else None
    except RuntimeError:
        grad = None
    if grad is None or not torch.any(grad != 0):
        still = ("--param spectrogram still works" if hasattr(model, "input_bounds") and hasattr(model, "inverse")
                 else "no parameterisation can dream with it (the spectrogram one needs input_bounds and inverse)")
        raise AuralizeError(f"the {param_name} parameterisation needs a gradient from the model's input back to the "
                            f"audio, and this {label(model)} model's features(audio) gives none (not torch "
                            f"operations?); {still}", param="param")


def fingerprint(model) -> str:
    """What identifies a model's weights: its checkpoint file's hash, or a hash of its tensors."""
    path = getattr(model, "path", None)
    if path is not None and Path(path).suffix == ".pt" and Path(path).is_file():
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    digest = hashlib.sha256()
    for key, value in (model.state_dict().items() if isinstance(model, nn.Module) else ()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


# --- wrap: any torch module as an AudioModel ------------------------------------------------------


class _Units:
    """The units of one wrapped state that :func:`auralize.neurons.ablate` silences (``unit_mask``)."""

    def __init__(self, hidden: int) -> None:
        self.hidden = hidden
        self.unit_mask: torch.Tensor | None = None


def _as_state(module: nn.Module, out) -> torch.Tensor | None:
    """A hooked module's output as ``(batch, units)`` or ``(batch, time, units)``; ``None`` if no tensor."""
    if isinstance(out, (tuple, list)):
        out = out[0] if out and torch.is_tensor(out[0]) else None
    if not torch.is_tensor(out) or out.ndim < 2:
        return None
    if isinstance(module, nn.RNNBase):  # (batch, time, units) when batch_first, else (time, batch, units)
        return out if module.batch_first else out.transpose(0, 1)
    return out if out.ndim == 2 else out.flatten(2).transpose(1, 2)  # channels first: units = channels


class WrappedModel(nn.Module):
    """A torch module and its front end as an :class:`AudioModel`; made by :func:`wrap`.

    Every hooked submodule's output is a state named by the submodule's qualified name
    (``"conv.0"``, ``"rnn"``): 2-D outputs are ``(batch, units)``; recurrent layers give
    ``(batch, time, units)``; other outputs are taken as channels first, ``(batch, channels, ...)``,
    and become ``(batch, positions, channels)``, so a unit is a channel.
    """

    def __init__(self, net: nn.Module, features: Callable[[torch.Tensor], torch.Tensor], genres: Sequence[str],
                 sample_rate: int, clip_samples: int, states: Sequence[str] | None, default: str | None,
                 name: str) -> None:
        super().__init__()
        self.net = net
        self.front = features if isinstance(features, nn.Module) else None  # saved and moved with the model
        self._features = features
        self.genres, self.sample_rate, self.clip_samples, self.name = tuple(genres), sample_rate, clip_samples, name
        self.meta: dict = {}
        self.path: Path | None = None
        modules = dict(net.named_modules())
        chosen = list(states) if states is not None else [
            n for n, m in modules.items() if n and (not list(m.children()) or isinstance(m, nn.RNNBase))
            and not isinstance(m, nn.Dropout)]
        unknown = next((n for n in chosen if n not in modules or not n), None)
        if unknown is not None:
            raise AuralizeError(f"states names {unknown!r}, which is not a submodule of the network; choose from "
                                f"{', '.join(n for n in modules if n)}", param="states")
        self._recording: dict[str, torch.Tensor] | None = None
        self._units: dict[str, _Units] = {}
        for n in chosen:
            modules[n].register_forward_hook(self._hook(n))
        self._states = chosen
        self._default = default

    def _hook(self, name: str):
        def hook(module, inputs, out):
            state = _as_state(module, out)
            if state is None:
                return None
            units = self._units.get(name)
            if units is not None and units.unit_mask is not None:  # ablation: silence these channels
                shape = [1] * out.ndim
                shape[-1 if isinstance(module, nn.RNNBase) or out.ndim == 2 else 1] = -1
                out = out * units.unit_mask.view(shape)
                state = _as_state(module, out)
            if self._recording is not None:
                self._recording[name] = state
            return out if units is not None and units.unit_mask is not None else None
        return hook

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        return self._features(audio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self._recording = {}
        try:
            logits = self.net(x)
            states = self._recording
        finally:
            self._recording = None
        return logits, {n: states[n] for n in self._states if n in states}

    def default_layer(self) -> str:
        if self._default is not None:
            return self._default
        logits, states = _probe(self, self.name)
        # The last state before the output that is not the output itself (the genre layer's logits).
        inner = [n for n, s in states.items() if not (s.shape == logits.shape and torch.equal(s, logits))]
        if not inner:
            raise AuralizeError(f"the wrapped {self.name} model has no state besides its output; give states=",
                                param="layer")
        return inner[-1]

    def unit_layer(self, layer: str) -> _Units:
        """What :func:`auralize.neurons.ablate` sets to silence units of ``layer`` (its channels)."""
        size = check_layer(self, layer)
        return self._units.setdefault(layer, _Units(size))


def wrap(net: nn.Module, features: Callable[[torch.Tensor], torch.Tensor], genres: Sequence[str],
         sample_rate: int = 4000, clip_seconds: float = 5.0, *, states: Sequence[str] | None = None,
         default_layer: str | None = None, name: str | None = None) -> WrappedModel:
    """Make any torch classifier on audio an :class:`AudioModel` that every auralize tool reads.

    Parameters
    ----------
    net : torch.nn.Module
        Maps model input ``(batch, ...)`` to logits ``(batch, len(genres))``.
    features : callable or torch.nn.Module
        Differentiable (torch operations): mono audio ``(batch, samples)`` to ``net``'s input.
        Dreams optimise audio through it; a module is saved and moved with the model.
    genres : sequence of str
        One name per output of ``net``.
    sample_rate : int
        Rate of the audio ``features`` reads (Hz).
    clip_seconds : float
        Length of one input; audio is cut into clips of this length.
    states : sequence of str, optional
        Qualified names of the submodules whose outputs are states (default: every leaf module and
        every recurrent layer, dropout excepted).
    default_layer : str, optional
        The state the neuron tools use by default (default: the last state before the output).
    name : str, optional
        What result files and messages call the model (default: ``net``'s class name).

    Returns
    -------
    WrappedModel
        In eval mode; checked with :func:`check_model`.

    Examples
    --------
    >>> import torch, auralize
    >>> net = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 9, stride=4), torch.nn.ReLU(),
    ...                           torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> model = auralize.wrap(net, features=lambda audio: audio[:, None], genres=["jazz", "rock"])
    >>> sorted(auralize.state_sizes(model).items())[:2]
    [('0', 4), ('1', 4)]
    >>> model.default_layer()
    '3'
    """
    if not isinstance(net, nn.Module):
        raise AuralizeError(f"net must be a torch.nn.Module, got {type(net).__name__}", param="net")
    if not callable(features):
        raise AuralizeError(f"features must be a function of audio, got {type(features).__name__}", param="features")
    from . import checks

    rate = checks.count("sample_rate", sample_rate, 1000, MAX_SAMPLE_RATE)
    seconds = checks.number("clip_seconds", clip_seconds, lo=0.1, hi=MAX_CLIP_SECONDS)
    model = WrappedModel(net, features, list(genres) if not isinstance(genres, str) else [genres], rate,
                         int(round(seconds * rate)), states, default_layer, name or type(net).__name__)
    return check_model(model.eval(), f"the wrapped {model.name}")


# --- a user's Python file ---------------------------------------------------------------------------

SPEC = re.compile(r"^(?P<file>.+\.py)(?::(?P<function>[A-Za-z_]\w*))?$")


def is_user_model(spec) -> bool:
    """Whether ``spec`` names a Python file (``my_model.py`` or ``my_model.py:build``) rather than a checkpoint."""
    return isinstance(spec, (str, Path)) and SPEC.match(str(spec)) is not None


def load_user_model(spec: str | Path):
    """Run a user's Python file and call its builder: ``my_model.py:build`` (default function ``build``).

    This runs the user's own code, at the user's request; a checkpoint file (``.pt``) never runs code.
    The builder returns an :class:`AudioModel` (e.g. made by :func:`wrap`); it is checked
    (:func:`check_model`), put in eval mode, and remembers where it came from (``path``, ``spec``).

    Raises
    ------
    AuralizeError
        If the file is missing, fails to import, has no such function, the function raises, or what it
        returns is not a model (the message names what is missing).
    """
    match = SPEC.match(str(spec))
    if match is None:
        raise AuralizeError(f"{spec} does not name a Python file; give my_model.py:build", param="checkpoint")
    path, function = Path(match["file"]), match["function"] or "build"
    if not path.is_file():
        raise AuralizeError(f"model file not found: {path}", param="checkpoint")
    name = "auralize_user_model_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    where = f"{path}:{function}"
    try:
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # dataclasses and pickling look their module up
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any exception, said in one line
        raise AuralizeError(f"{path} fails to load ({type(exc).__name__}: {_first_line(exc)})",
                            param="checkpoint") from None
    builder = getattr(module, function, None)
    if not callable(builder):
        found = ", ".join(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                          and getattr(v, "__module__", None) == name)
        raise AuralizeError(f"{path} has no function {function!r} (it defines: {found or 'none'})", param="checkpoint")
    try:
        model = builder()
    except Exception as exc:
        raise AuralizeError(f"{where}() raised {type(exc).__name__}: {_first_line(exc)}", param="checkpoint") from None
    check_model(model, f"what {where}() returned")
    if isinstance(model, nn.Module):
        model.eval()
    model.path, model.spec = path, f"{path}:{function}"
    return model


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else "no message"
