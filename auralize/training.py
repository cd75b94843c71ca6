"""Training: the paper's settings per model, early stopping, atomic best checkpoint, resume."""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import checks
from .checkpoint import attach, save_checkpoint
from .data import ClipSet, Dataset, Split, make_split, part_genre_counts, track_keys
from .errors import AuralizeError
from .evaluation import predict_logits
from .features import InputScaler
from .io import atomic_torch_save, ensure_writable
from .models import ModelConfig, build_model, model_kind
from .settings import CLASS_WEIGHTS, OPTIMIZERS, SCHEDULES


@dataclass
class TrainSettings:
    """Optimisation settings. ``None`` fields take the model kind's defaults, then :data:`GENERAL_DEFAULTS`
    (:func:`defaults`)."""

    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None  # "sgd" (the paper's), "adam" or "adamw"
    lr: float | None = None
    clip_norm: float | None = None  # gradient-norm clipping; 0: none
    patience: int | None = None
    weight_decay: float | None = None
    c: float = 1.0  # SVM / softmax regularisation
    augment: bool = True  # random gain and time/frequency masks on training inputs (the paper's neural models)
    robust: str = "none"  # "noise", "pgd" or "trades": a robust recipe (auralize.robust.ROBUST)
    robust_eps: float = 0.0  # RMS size of that perturbation per input element
    init_from: str | None = None  # checkpoint whose weights start the run (fine-tuning)
    schedule: str | None = None  # "cosine": the learning rate falls to 0 over the epochs
    class_weights: str | None = None  # "sqrt": each genre's loss weighted by sqrt(largest genre / its clips)
    label_smoothing: float | None = None
    crop: int | None = None  # frames of a random crop of each batch (models that own their front end); 0: none

    def check(self, neural: bool = True) -> "TrainSettings":
        """Self, if every number is in range (NaN and infinity never pass); else a one-line error."""
        checks.count("epochs", self.epochs)
        checks.count("batch_size", self.batch_size)
        checks.count("patience", self.patience)
        checks.non_negative("clip_norm", self.clip_norm)
        checks.non_negative("weight_decay", self.weight_decay)
        checks.positive("c", self.c)
        checks.number("label_smoothing", self.label_smoothing, lo=0, hi=1, hi_open=True)
        checks.count("crop", self.crop, 0)
        for name, allowed in (("schedule", SCHEDULES), ("class_weights", CLASS_WEIGHTS)):
            if getattr(self, name) not in allowed:
                raise AuralizeError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}",
                                    param=name)
        if neural:
            checks.positive("lr", self.lr)
            if self.optimizer not in OPTIMIZERS:
                raise AuralizeError(f"unknown optimizer {self.optimizer!r}; use one of {', '.join(OPTIMIZERS)}",
                                    param="optimizer")
        return self


#: What a setting left as ``None`` becomes when the model kind's ``train_defaults`` do not say.
GENERAL_DEFAULTS = {"batch_size": 128, "clip_norm": 5.0, "patience": 20, "weight_decay": 0.0, "schedule": "none",
                    "class_weights": "none", "label_smoothing": 0.0, "crop": 0}


def check_out(out: str | Path) -> Path:
    """``out`` as a Path if a checkpoint can be written there; checked before any training, so
    a bad path fails at once, not after the first epoch."""
    from .distributed import world

    out = Path(out)
    if out.is_dir():
        raise AuralizeError(f"out is a directory ({out}); give a checkpoint file path", param="out")
    if world().main:  # under torchrun rank 0 alone writes (the ranks' probes would race)
        ensure_writable(out.parent)
    return out


def defaults(kind: str) -> dict:
    """Per-model defaults (the registry entry's ``train_defaults``, over :data:`GENERAL_DEFAULTS`).

    The authors trained with SGD at learning rate 1.0 on raw PSDs; on log-compressed,
    normalised input Adam converges in far fewer epochs to the same or better accuracy, so it is
    the default here (``--optimizer sgd --lr 1.0`` gives the paper's settings).
    """
    return {**GENERAL_DEFAULTS, **model_kind(kind).train_defaults}


@dataclass
class TrainResult:
    model: nn.Module
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_valid: float = 0.0
    path: Path | None = None


def augment_batch(x: torch.Tensor, inv_std: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random level change (+-6 dB) and one time and one frequency mask per clip.

    Recordings differ in level and band-limits more than genres do; without this the
    recurrent models memorise a few hundred training songs within a handful of epochs.
    """
    b, t, f = x.shape
    gain = (torch.rand(b, 1, 1, generator=generator) * 2 - 1) * math.log(10 ** 0.6)  # +-6 dB in power
    x = x + gain * inv_std
    t0 = torch.randint(0, t, (b, 1, 1), generator=generator)
    tw = torch.randint(0, 4, (b, 1, 1), generator=generator)
    f0 = torch.randint(0, f, (b, 1, 1), generator=generator)
    fw = torch.randint(0, 60, (b, 1, 1), generator=generator)
    steps = torch.arange(t).view(1, t, 1)
    bins = torch.arange(f).view(1, 1, f)
    mask = ((steps >= t0) & (steps < t0 + tw)) | ((bins >= f0) & (bins < f0 + fw))
    return x.masked_fill(mask, 0.0)


def _batches(n: int, batch: int, generator: torch.Generator) -> list[torch.Tensor]:
    return list(torch.randperm(n, generator=generator).split(batch))


def _score(model: nn.Module, x, y: np.ndarray) -> tuple[float, float]:
    """(clip accuracy, mean cross-entropy) of model inputs ``x`` with labels ``y``."""
    if len(y) == 0:
        return float("nan"), float("nan")
    logits = predict_logits(model, x)
    target = torch.from_numpy(np.asarray(y))
    return float((logits.argmax(1) == target).float().mean()), float(nn.functional.cross_entropy(logits, target))


@dataclass
class _Inputs:
    """A run's training and validation inputs, its config and metadata; ``batch`` turns a training batch
    into what the model learns from (augmented, cropped)."""

    config: ModelConfig
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    meta: dict
    batch: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    scaler: InputScaler | None = None  # the paper's front end, fitted here


def train(kind: str, data: Dataset | ClipSet, split: str | Split = "filtered", *, hidden: int = 0, layers: int = 0,
          variant: str = "paper", dropout: float | None = None, compression: str = "log", per_bin: bool = True,
          input_norm: str = "level",
          settings: TrainSettings | None = None, seed: int = 0, split_seed: int | None = None,
          out: str | Path | None = None, resume: bool = False, progress: bool = True,
          log: Callable[[str], None] = print, meta: dict | None = None, device: str = "cpu") -> TrainResult:
    """Train a model of a registered kind (:data:`auralize.models.MODELS`) on a data set.

    The front end is fitted on the training part only and stored with the model (the paper's kinds:
    the input scaler of their PSDs; a kind with its own front end, such as ``cnn-mel``: its per-band
    statistics). Neural models validate every epoch, keep the best weights (by validation clip
    accuracy), stop after ``patience`` epochs without improvement, and write the best checkpoint
    atomically to ``out`` whenever it improves. With ``resume=True`` an interrupted run continues from
    ``<out>.resume.pt``, which is removed once training finishes.

    Data opened from a feature store (:func:`auralize.store.build_store`) is streamed: the front end
    is fitted in two passes over the training clips and each batch is read when it is needed.
    Inside a ``torch.distributed`` process group (``torchrun``) the run is data-parallel
    (DistributedDataParallel): every rank draws the same global batches of ``batch_size`` clips and
    learns from every ``size``-th clip of each, the gradients are averaged, and rank 0 alone writes
    the checkpoint and the resume file and shows progress. With the same seed it gives one process's
    weights, up to float rounding, for models without dropout and without ``robust`` training (each rank
    draws its own dropout masks and perturbations).

    Parameters
    ----------
    kind : str
        The model kind (``lstm``, ``svm``, ``cnn-mel``, ...).
    data : Dataset or ClipSet
        The paper's kinds read a data set's cached PSDs (:func:`auralize.data.load_dataset`); a kind
        with its own front end reads the clips' audio (:func:`auralize.data.load_clips`).
    split : str or Split
        A split name (:data:`auralize.settings.SPLITS`) or a split.
    hidden, layers, variant, dropout, input_norm : the architecture (:class:`~auralize.models.ModelConfig`;
        0 or ``None`` is the kind's default).
    compression, per_bin : the paper's input scaling (:class:`~auralize.features.InputScaler`).
    settings : TrainSettings, optional
        Optimisation; ``None`` fields take the kind's defaults.
    seed : int
        Seeds the initialisation, batches and augmentation.
    split_seed : int, optional
        Seeds the track split (default: ``seed``), so models of different initialisations can share one.
    out : str or Path, optional
        Checkpoint path.
    resume, progress, log, meta : continue from ``<out>.resume.pt``; show a bar; where messages go;
        metadata to store.
    device : str
        ``cpu``, ``cuda`` or ``auto`` (:func:`auralize.distributed.pick_device`).

    Returns
    -------
    TrainResult
        The best model (eval mode, with its front end, ``genres`` and ``meta``) and the history.

    Examples
    --------
    >>> data = auralize.load_dataset("../shared/gtzan4k")  # doctest: +SKIP
    >>> auralize.train("lstm", data, "track", out="runs/lstm.pt").best_valid  # doctest: +SKIP
    0.758
    """
    from . import distributed

    entry = model_kind(kind)
    device = distributed.pick_device(device)
    if not distributed.world().main:
        log, progress = (lambda m: None), False  # rank 0 speaks for the run
    settings = replace(settings or TrainSettings())  # a copy: the caller's settings stay as given
    for key, value in defaults(kind).items():
        if getattr(settings, key) is None:
            setattr(settings, key, value)
    settings.check(entry.neural)
    seed = checks.count("seed", seed, lo=0, hi=2**32 - 1)
    split_seed = seed if split_seed is None else checks.count("split_seed", split_seed, lo=0, hi=2**32 - 1)
    dataset = data.dataset if isinstance(data, ClipSet) else data
    if len(dataset.genres) < 2:
        raise AuralizeError(f"training needs at least two genres; the data has {len(dataset.genres)}")
    if entry.front_end != "paper" and not isinstance(data, ClipSet):
        raise AuralizeError(f"a {kind} model learns from the clips' audio through its own front end: give "
                            "auralize.load_clips(DIR), not a data set of PSDs", param="data")
    out = check_out(out) if out else None
    if isinstance(split, str):
        split = make_split(dataset, split, seed=split_seed)
    if len(split["train"]) == 0:
        raise AuralizeError(f"the training part of the {split.name} split is empty; use another split", param="split")
    distributed.agree("data", f"{dataset.summary()}; {split.coverage}; {len(dataset.label)} clips",
                      "give every rank the same --data (and --genres, --split, --seed)")
    torch.manual_seed(seed)
    np.random.seed(seed)
    config = ModelConfig(kind=kind, n_classes=len(dataset.genres), hidden=hidden, layers=layers,
                         dropout=entry.dropout if dropout is None else dropout, variant=variant, input_norm=input_norm)
    meta = {**(meta or {}), "kind": kind, "split": split.name, "coverage": split.coverage, "seed": seed,
            "split_seed": split_seed, "data_summary": dataset.summary(),
            "train_tracks": part_genre_counts(dataset, split["train"]),
            "train_tracks_list": track_keys(dataset, split["train"]),  # what evaluate checks another split against
            "settings": asdict(settings), "compression": compression, "per_bin": per_bin}
    if not entry.neural:  # fitted by each rank alike; rank 0 writes it
        return _fit_baseline(_paper_inputs(dataset, split, config, InputScaler(compression=compression,
                                                                               per_bin=per_bin), meta, settings),
                             dataset.genres, settings, seed, out if distributed.world().main else None, log)
    model = build_model(config)
    if entry.front_end == "paper":
        inputs = _paper_inputs(dataset, split, config, InputScaler(compression=compression, per_bin=per_bin), meta,
                               settings)
        attach(model, inputs.scaler, dataset.genres, meta)
    else:
        inputs = _own_inputs(model, data, split, config, meta, settings)
        model.genres, model.meta = tuple(dataset.genres), meta
    return _fit_neural(model.to(device), inputs, settings, seed, out, resume, progress, log)



def _paper_inputs(data: Dataset, split: Split, config: ModelConfig, scaler: InputScaler, meta: dict,
                  settings: TrainSettings) -> _Inputs:
    """The paper's front end: fit the scaler on the training PSDs only, scale both parts; batches are augmented."""
    train_ids, valid_ids = split["train"], split["valid"]
    if isinstance(data.psd, np.ndarray):
        scaler.fit(data.psd[train_ids])
        x_train, x_valid = (scaler.transform(data.psd[ids]).astype(np.float32) for ids in (train_ids, valid_ids))
    else:  # a feature store: fitted in two streamed passes, each batch scaled when it is read
        from .shards import MappedRows

        scaler.fit_rows(data.psd.subset(train_ids))
        x_train, x_valid = (MappedRows(data.psd.subset(ids), lambda p: scaler.transform(p).astype(np.float32))
                            for ids in (train_ids, valid_ids))
    inv_std = torch.as_tensor(1.0 / np.asarray(scaler.std), dtype=torch.float32) if scaler.compression == "log" \
        else torch.zeros(1)
    batch = (lambda xb, gen: augment_batch(xb, inv_std, gen)) if settings.augment else (lambda xb, gen: xb)
    return _Inputs(config, x_train, data.label[train_ids], x_valid, data.label[valid_ids], meta, batch, scaler)


def _own_inputs(model: nn.Module, clips: ClipSet, split: Split, config: ModelConfig, meta: dict,
                settings: TrainSettings) -> _Inputs:
    """A model's own front end: its features of every clip (fitted on the training clips only); each batch is a
    random crop of ``settings.crop`` frames."""
    with torch.no_grad():
        raw = torch.cat([model.front.logmel(torch.from_numpy(clips.audio[i:i + 256]))
                         for i in range(0, len(clips.audio), 256)])
        model.front.fit(raw[split["train"]])
        x = model.front.standardise(raw).numpy().astype(np.float32)
    crop = settings.crop

    def batch(xb: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not crop or xb.shape[-1] <= crop:
            return xb
        start = int(torch.randint(0, xb.shape[-1] - crop + 1, (1,), generator=gen))
        return xb[..., start:start + crop]

    label = clips.dataset.label
    return _Inputs(config, x[split["train"]], label[split["train"]], x[split["valid"]], label[split["valid"]], meta,
                   batch)


def _fit_baseline(inputs: _Inputs, genres, settings: TrainSettings, seed: int, out: Path | None, log) -> TrainResult:
    """A non-neural kind: fitted once by scikit-learn (:func:`auralize.baselines.fit_baseline`)."""
    from .baselines import fit_baseline

    started = time.time()
    log(f"{inputs.config.kind}: fitting on {len(inputs.x_train)} training clips with scikit-learn; it shows no "
        "progress while it fits (the SVM on all of GTZAN takes about 10 minutes)")
    x_train = inputs.x_train if isinstance(inputs.x_train, np.ndarray) else inputs.x_train[:]  # scikit-learn: in memory
    model = fit_baseline(inputs.config, x_train, inputs.y_train, seed=seed, c=settings.c)
    meta = inputs.meta
    attach(model, inputs.scaler, genres, meta)
    valid, valid_loss = _score(model, inputs.x_valid, inputs.y_valid)
    history = [{"epoch": 1, "valid_acc": valid, "valid_loss": valid_loss, "seconds": time.time() - started}]
    meta.update({"history": history, "best_epoch": 1, "best_valid_acc": valid})
    model.meta = meta
    log(f"{inputs.config.kind}: fitted in {history[0]['seconds']:.1f} s, valid clip accuracy {valid:.3f}")
    if out:
        save_checkpoint(out, model, meta)
    return TrainResult(model.eval(), history, 1, valid, out)


def _optimizer(model: nn.Module, settings: TrainSettings) -> tuple[list, torch.optim.Optimizer]:
    params = [p for p in model.parameters() if p.requires_grad]
    kind = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[settings.optimizer]
    return params, kind(params, lr=settings.lr, weight_decay=settings.weight_decay)


def _loss(settings: TrainSettings, labels: np.ndarray, n_classes: int) -> nn.Module:
    """Cross-entropy, with each genre weighted by sqrt(largest genre's clips / its clips) if asked, and label smoothing."""
    weight = None
    if settings.class_weights == "sqrt":
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        weight = torch.as_tensor(np.where(counts > 0, np.sqrt(counts.max() / np.maximum(counts, 1)), 0.0),
                                 dtype=torch.float32)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=settings.label_smoothing)


def _fresh_state() -> dict:
    return {"epoch": 0, "best_valid": -1.0, "best_epoch": 0, "since_best": 0, "history": [], "best_state": None}


def _load_resume(path: Path | None, model: nn.Module, opt, sched, config: ModelConfig, seed: int, log) -> dict:
    """The loop's state from ``path`` (model, optimiser, schedule and random state restored in place)."""
    import io

    from .distributed import read_on_main

    blob = read_on_main(path)  # under torchrun, rank 0's file, on every rank
    if blob is None:
        raise AuralizeError(f"nothing to resume: {path} not found; run without resume", param="resume")
    damaged = lambda exc: AuralizeError(f"{path} is damaged ({type(exc).__name__}); delete it and run "  # noqa: E731
                                        "without resume")
    try:
        saved = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        same = json.loads(saved["config"]) == config.to_dict() and saved["seed"] == seed
    except Exception as exc:  # a truncated or foreign file: torch raises many types
        raise damaged(exc) from None
    if not same:
        raise AuralizeError(f"{path} was made with other settings; run without resume")
    try:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if sched is not None:
            sched.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["rng"])
        state = json.loads(saved["state"])
        state["best_state"] = saved["best_state"]
    except Exception as exc:
        raise damaged(exc) from None
    log(f"resuming after epoch {state['epoch']} (best valid {state['best_valid']:.3f} at epoch {state['best_epoch']})")
    return state


def _save_resume(path: Path, model: nn.Module, opt, sched, config: ModelConfig, seed: int, state: dict) -> None:
    payload = {"config": json.dumps(config.to_dict()), "seed": seed, "model": model.state_dict(),
               "optimizer": opt.state_dict(), "rng": torch.get_rng_state(), "best_state": state["best_state"],
               "state": json.dumps({k: v for k, v in state.items() if k != "best_state"}),
               **({"schedule": sched.state_dict()} if sched is not None else {})}
    atomic_torch_save(path, payload)


def _epoch(model: nn.Module, params, opt, loss_fn: nn.Module, inputs: _Inputs, xt, yt: torch.Tensor,
           settings: TrainSettings, generator: torch.Generator, step: nn.Module | None = None) -> float:
    """One pass over the training clips (augmented or cropped, perturbed if robust); returns the mean loss.

    ``step`` is the module the batches go through: ``model`` itself, or its DistributedDataParallel
    wrapper, in which case this rank learns from its share of each global batch (:func:`_share`).
    """
    from . import distributed, robust

    model.train()
    step = step or model
    device = next(model.parameters()).device
    here = distributed.world()
    total, count = 0.0, 0
    for ids in _batches(len(xt), settings.batch_size, generator):
        opt.zero_grad()
        xb, yb = inputs.batch(torch.as_tensor(xt[ids]), generator), yt[ids]
        scale = None
        if here.size > 1:
            xb, yb, scale = _share(xb, yb, loss_fn, here)
        rank_loss = loss_fn if scale is None else (lambda out, target: _summed(loss_fn, out, target) * scale)
        loss = robust.training_loss(model, xb.to(device), yb.to(device), rank_loss, settings.robust,
                                    settings.robust_eps, generator, forward=step)
        loss.backward()
        if settings.clip_norm:
            nn.utils.clip_grad_norm_(params, settings.clip_norm)
        opt.step()
        total += loss.item() * len(ids) / (1 if scale is None else here.size)
        count += len(ids)
    return distributed.total(total) / count


def _share(xb: torch.Tensor, yb: torch.Tensor, loss_fn: nn.Module, here) -> tuple[torch.Tensor, torch.Tensor, float]:
    """This rank's clips of a global batch (every ``size``-th, from its rank on) and the factor that makes the
    ranks' averaged gradients those of the global batch's mean loss, however unevenly it divides.

    A rank left without a clip (a last batch smaller than the ranks) learns from a clip with weight 0, so
    that it still joins the gradients' all-reduce.
    """
    weight = loss_fn.weight
    denominator = float(len(yb) if weight is None else weight.cpu()[yb].sum())
    mine = slice(here.rank, None, here.size)
    if len(yb[mine]) == 0:
        return xb[:1], yb[:1], 0.0
    return xb[mine], yb[mine], here.size / denominator


def _summed(loss_fn: nn.Module, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``loss_fn``'s loss summed over the clips rather than averaged (a rank's share of a global mean)."""
    weight = None if loss_fn.weight is None else loss_fn.weight.to(out.device)
    return nn.functional.cross_entropy(out, target, weight=weight, label_smoothing=loss_fn.label_smoothing,
                                       reduction="sum")


def _fit_neural(model: nn.Module, inputs: _Inputs, settings: TrainSettings, seed: int, out: Path | None,
                resume: bool, progress: bool, log) -> TrainResult:
    """Epochs until ``epochs`` or ``patience``, the best model kept (see :func:`train`)."""
    from . import robust

    robust.check(settings.robust, settings.robust_eps)
    if settings.init_from:
        robust.warm_start(model, settings.init_from)
    params, opt = _optimizer(model, settings)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.epochs) if settings.schedule == "cosine" else None
    loss_fn = _loss(settings, inputs.y_train, inputs.config.n_classes).to(next(model.parameters()).device)
    resume_path = out.with_suffix(".resume.pt") if out else None
    state = _load_resume(resume_path, model, opt, sched, inputs.config, seed, log) if resume else _fresh_state()
    xt = torch.from_numpy(inputs.x_train) if isinstance(inputs.x_train, np.ndarray) else inputs.x_train
    yt = torch.from_numpy(inputs.y_train)
    from . import distributed
    from .progress import bar as tqdm  # a bar that suits a notebook too

    main = distributed.world().main
    step = _parallel(model)
    out = out if main else None  # rank 0 alone writes

    bar = tqdm(total=settings.epochs, initial=state["epoch"], desc=f"train {inputs.config.kind}", unit="epoch",
               disable=not progress, leave=False)
    while state["epoch"] < settings.epochs and state["since_best"] < settings.patience:
        epoch = state["epoch"] + 1
        started = time.time()
        loss = _epoch(model, params, opt, loss_fn, inputs, xt, yt, settings,
                      torch.Generator().manual_seed(seed * 100003 + epoch), step)
        if sched is not None:
            sched.step()
        has_valid = len(inputs.y_valid) > 0
        valid, valid_loss = _score(model, inputs.x_valid, inputs.y_valid) if has_valid else \
            _score(model, inputs.x_train, inputs.y_train)
        record = {"epoch": epoch, "loss": loss, "valid_acc": valid, "valid_loss": valid_loss,
                  "seconds": time.time() - started}
        _keep_best(state, record, model, out, inputs.meta)
        if resume_path is not None and main:
            _save_resume(resume_path, model, opt, sched, inputs.config, seed, state)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", valid=f"{valid:.3f}", best=f"{state['best_valid']:.3f}")
        if not math.isfinite(loss):
            raise AuralizeError(f"training diverged at epoch {epoch} (loss {loss}); lower lr", param="lr")
    bar.close()
    model.load_state_dict(state["best_state"])
    meta = inputs.meta
    meta.update({"best_epoch": state["best_epoch"], "best_valid_acc": state["best_valid"], "history": state["history"]})
    model.meta = meta
    if out:
        save_checkpoint(out, model, meta)
        resume_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    log(f"{inputs.config.kind}: best valid clip accuracy {state['best_valid']:.3f} at epoch {state['best_epoch']} "
        f"of {state['epoch']}")
    return TrainResult(model.eval(), state["history"], state["best_epoch"], state["best_valid"], out)


def _parallel(model: nn.Module) -> nn.Module:
    """The module training steps go through: inside a process group, ``model`` wrapped in
    DistributedDataParallel (which averages the ranks' gradients in the backward pass), else ``model``."""
    from . import distributed

    if distributed.world().size == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def _keep_best(state: dict, record: dict, model: nn.Module, out: Path | None, meta: dict) -> None:
    """Add the epoch's record; keep (and write) the model if it is the best so far."""
    state["history"].append(record)
    state["epoch"] = epoch = record["epoch"]
    valid, valid_loss = record["valid_acc"], record["valid_loss"]
    # Best = highest validation accuracy; on a tie, the lower validation loss (small
    # validation sets tie often, and the earliest tie is rarely the best model).
    if (valid, -valid_loss) > (state["best_valid"], -state.get("best_loss", math.inf)):
        state.update(best_valid=valid, best_loss=valid_loss, best_epoch=epoch, since_best=0)
        state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if out:
            save_checkpoint(out, model, {**meta, "best_epoch": epoch, "best_valid_acc": valid,
                                         "history": state["history"]})
    else:
        state["since_best"] += 1
