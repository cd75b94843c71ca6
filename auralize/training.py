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
from .data import Dataset, Split, make_split, part_genre_counts, track_keys
from .errors import AuralizeError
from .evaluation import predict_logits
from .features import InputScaler
from .io import atomic_torch_save, ensure_writable
from .models import ModelConfig, build_model, model_kind


@dataclass
class TrainSettings:
    """Optimisation settings. ``None`` fields take the per-model defaults of :func:`defaults`."""

    epochs: int | None = None
    batch_size: int = 128
    optimizer: str | None = None  # "sgd" (the paper's) or "adam"
    lr: float | None = None
    clip_norm: float = 5.0
    patience: int = 20
    weight_decay: float = 0.0
    c: float = 1.0  # SVM / softmax regularisation
    augment: bool = True  # random gain and time/frequency masks on training inputs (neural models)
    robust: str = "none"  # "noise" or "pgd": perturb each batch's input (see auralize.robust)
    robust_eps: float = 0.0  # RMS size of that perturbation per input element
    init_from: str | None = None  # checkpoint whose weights start the run (fine-tuning)

    def check(self, neural: bool = True) -> "TrainSettings":
        """Self, if every number is in range (NaN and infinity never pass); else a one-line error."""
        checks.count("epochs", self.epochs)
        checks.count("batch_size", self.batch_size)
        checks.count("patience", self.patience)
        checks.positive("clip_norm", self.clip_norm)
        checks.non_negative("weight_decay", self.weight_decay)
        checks.positive("c", self.c)
        if neural:
            checks.positive("lr", self.lr)
            if self.optimizer not in ("sgd", "adam"):
                raise AuralizeError(f"unknown optimizer {self.optimizer!r}; use 'sgd' or 'adam'", param="optimizer")
        return self


def check_out(out: str | Path) -> Path:
    """``out`` as a Path if a checkpoint can be written there; checked before any training, so
    a bad path fails at once, not after the first epoch."""
    out = Path(out)
    if out.is_dir():
        raise AuralizeError(f"out is a directory ({out}); give a checkpoint file path", param="out")
    ensure_writable(out.parent)
    return out


def defaults(kind: str) -> dict:
    """Per-model defaults (the registry entry's ``train_defaults``).

    The authors trained with SGD at learning rate 1.0 on raw PSDs; on log-compressed,
    normalised input Adam converges in far fewer epochs to the same or better accuracy, so it is
    the default here (``--optimizer sgd --lr 1.0`` gives the paper's settings).
    """
    return dict(model_kind(kind).train_defaults)


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


def _score(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(clip accuracy, mean cross-entropy) of model inputs ``x`` with labels ``y``."""
    if len(y) == 0:
        return float("nan"), float("nan")
    logits = predict_logits(model, x)
    target = torch.from_numpy(np.asarray(y))
    return float((logits.argmax(1) == target).float().mean()), float(nn.functional.cross_entropy(logits, target))


def train(kind: str, data: Dataset, split: str | Split = "filtered", *, hidden: int = 0, layers: int = 0,
          variant: str = "paper", dropout: float = 0.2, compression: str = "log", per_bin: bool = True,
          input_norm: str = "level",
          settings: TrainSettings | None = None, seed: int = 0, split_seed: int | None = None,
          out: str | Path | None = None, resume: bool = False, progress: bool = True,
          log: Callable[[str], None] = print, meta: dict | None = None) -> TrainResult:
    """Train one of the paper's models on a data set.

    The input scaler is fitted on the training part only and stored with the model. Neural
    models validate every epoch, keep the best weights (by validation clip accuracy), stop after
    ``patience`` epochs without improvement, and write the best checkpoint atomically to ``out``
    whenever it improves. With ``resume=True`` an interrupted run continues from
    ``<out>.resume.pt``, which is removed once training finishes. ``seed`` seeds the
    initialisation, batches and augmentation; ``split_seed`` (default: ``seed``) the track split,
    so models with different initialisations can share one split.

    Returns
    -------
    TrainResult
        The best model (eval mode, with ``scaler``/``genres``/``meta`` attached) and the history.
    """
    entry = model_kind(kind)
    settings = replace(settings or TrainSettings())  # a copy: the caller's settings stay as given
    for key, value in defaults(kind).items():
        if getattr(settings, key) is None:
            setattr(settings, key, value)
    settings.check(entry.neural)
    seed = checks.count("seed", seed, lo=0, hi=2**32 - 1)
    split_seed = seed if split_seed is None else checks.count("split_seed", split_seed, lo=0, hi=2**32 - 1)
    if len(data.genres) < 2:
        raise AuralizeError(f"training needs at least two genres; the data has {len(data.genres)}")
    out = check_out(out) if out else None
    if isinstance(split, str):
        split = make_split(data, split, seed=split_seed)
    train_ids, valid_ids = split["train"], split["valid"]
    if len(train_ids) == 0:
        raise AuralizeError(f"the training part of the {split.name} split is empty; use another split", param="split")
    torch.manual_seed(seed)
    np.random.seed(seed)

    scaler = InputScaler(compression=compression, per_bin=per_bin).fit(data.psd[train_ids])
    x_train = scaler.transform(data.psd[train_ids]).astype(np.float32)
    y_train = data.label[train_ids]
    x_valid = scaler.transform(data.psd[valid_ids]).astype(np.float32)
    y_valid = data.label[valid_ids]
    config = ModelConfig(kind=kind, n_classes=len(data.genres), hidden=hidden, layers=layers,
                         dropout=dropout, variant=variant, input_norm=input_norm)
    meta = dict(meta or {})
    meta.update({
        "kind": kind, "split": split.name, "coverage": split.coverage, "seed": seed, "split_seed": split_seed,
        "data_summary": data.summary(),
        "train_tracks": part_genre_counts(data, train_ids),
        "train_tracks_list": track_keys(data, train_ids),  # what evaluate checks another split against
        "settings": asdict(settings), "compression": compression, "per_bin": per_bin,
    })

    if not entry.neural:
        from .baselines import fit_baseline

        started = time.time()
        log(f"{kind}: fitting on {len(x_train)} training clips with scikit-learn; it shows no progress while it fits "
            "(the SVM on all of GTZAN takes about 10 minutes)")
        model = fit_baseline(config, x_train, y_train, seed=seed, c=settings.c)
        attach(model, scaler, data.genres, meta)
        valid, valid_loss = _score(model, x_valid, y_valid)
        history = [{"epoch": 1, "valid_acc": valid, "valid_loss": valid_loss, "seconds": time.time() - started}]
        meta.update({"history": history, "best_epoch": 1, "best_valid_acc": valid})
        model.meta = meta
        log(f"{kind}: fitted in {history[0]['seconds']:.1f} s, valid clip accuracy {valid:.3f}")
        if out:
            save_checkpoint(out, model, meta)
        return TrainResult(model.eval(), history, 1, valid, out)

    model = attach(build_model(config), scaler, data.genres, meta)
    from . import robust

    robust.check(settings.robust, settings.robust_eps)
    if settings.init_from:
        robust.warm_start(model, settings.init_from)
    params = [p for p in model.parameters() if p.requires_grad]
    if settings.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=settings.lr, weight_decay=settings.weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    state = {"epoch": 0, "best_valid": -1.0, "best_epoch": 0, "since_best": 0, "history": [],
             "best_state": None}
    resume_path = out.with_suffix(".resume.pt") if out else None
    if resume:
        if resume_path is None or not resume_path.exists():
            raise AuralizeError(f"nothing to resume: {resume_path} not found; run without resume", param="resume")
        try:
            saved = torch.load(resume_path, map_location="cpu", weights_only=True)
            same = json.loads(saved["config"]) == config.to_dict() and saved["seed"] == seed
        except Exception as exc:  # a truncated or foreign file: torch raises many types
            raise AuralizeError(f"{resume_path} is damaged ({type(exc).__name__}); delete it and run without "
                                "resume") from None
        if not same:
            raise AuralizeError(f"{resume_path} was made with other settings; run without resume")
        try:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            torch.set_rng_state(saved["rng"])
            state = json.loads(saved["state"])
            state["best_state"] = saved["best_state"]
        except Exception as exc:
            raise AuralizeError(f"{resume_path} is damaged ({type(exc).__name__}); delete it and run without "
                                "resume") from None
        log(f"resuming after epoch {state['epoch']} (best valid {state['best_valid']:.3f} at epoch {state['best_epoch']})")

    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    inv_std = torch.as_tensor(1.0 / np.asarray(scaler.std), dtype=torch.float32) if scaler.compression == "log" \
        else torch.zeros(1)
    from .progress import bar as tqdm  # a bar that suits a notebook too

    bar = tqdm(total=settings.epochs, initial=state["epoch"], desc=f"train {kind}", unit="epoch",
               disable=not progress, leave=False)
    while state["epoch"] < settings.epochs and state["since_best"] < settings.patience:
        epoch = state["epoch"] + 1
        started = time.time()
        model.train()
        generator = torch.Generator().manual_seed(seed * 100003 + epoch)
        total, count = 0.0, 0
        for ids in _batches(len(xt), settings.batch_size, generator):
            opt.zero_grad()
            xb = augment_batch(xt[ids], inv_std, generator) if settings.augment else xt[ids]
            xb = robust.perturb_batch(model, xb, yt[ids], settings.robust, settings.robust_eps, generator)
            loss = loss_fn(model(xb), yt[ids])
            loss.backward()
            nn.utils.clip_grad_norm_(params, settings.clip_norm)
            opt.step()
            total += loss.item() * len(ids)
            count += len(ids)
        valid, valid_loss = _score(model, x_valid, y_valid) if len(y_valid) else _score(model, x_train, y_train)
        record = {"epoch": epoch, "loss": total / count, "valid_acc": valid, "valid_loss": valid_loss,
                  "seconds": time.time() - started}
        state["history"].append(record)
        state["epoch"] = epoch
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
        if resume_path is not None:
            payload = {"config": json.dumps(config.to_dict()), "seed": seed, "model": model.state_dict(),
                       "optimizer": opt.state_dict(), "rng": torch.get_rng_state(),
                       "best_state": state["best_state"],
                       "state": json.dumps({k: v for k, v in state.items() if k != "best_state"})}
            atomic_torch_save(resume_path, payload)
        bar.update(1)
        bar.set_postfix(loss=f"{record['loss']:.3f}", valid=f"{valid:.3f}", best=f"{state['best_valid']:.3f}")
        if not math.isfinite(record["loss"]):
            raise AuralizeError(f"training diverged at epoch {epoch} (loss {record['loss']}); lower lr", param="lr")
    bar.close()
    model.load_state_dict(state["best_state"])
    meta.update({"best_epoch": state["best_epoch"], "best_valid_acc": state["best_valid"],
                 "history": state["history"]})
    model.meta = meta
    if out:
        save_checkpoint(out, model, meta)
        resume_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    log(f"{kind}: best valid clip accuracy {state['best_valid']:.3f} at epoch {state['best_epoch']} "
        f"of {state['epoch']}")
    return TrainResult(model.eval(), state["history"], state["best_epoch"], state["best_valid"], out)
