"""The ``features`` judge: hand-made timbre, contrast and rhythm features, standardised, then a
multinomial logistic regression (scikit-learn). No network: it fails where the networks do not.

Its parameters are plain arrays in an ``.npz`` (never a pickle).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from .. import features as F
from ..arrays import read_npz
from ..errors import AuralizeError
from ..io import atomic_save_npz
from .base import Judge, as_clips, softmax

N_FFT, HOP = 512, 128  # 128 ms windows, 32 ms hop at 4 kHz
N_MFCC = 20
FORMAT = "auralize-panel-features-1"
#: No fitted weight comes near this (an absent genre's intercept is -1e9); 1e30 is an edit.
MAX_WEIGHT = 1e12


def clip_features(clip: np.ndarray, sr: int = F.SAMPLE_RATE) -> np.ndarray:
    """One clip's feature vector: timbre (MFCC and delta means/stds), spectral contrast, centroid,
    bandwidth, rolloff, flatness, zero crossings, level dynamics, onset strength and tempo."""
    import librosa

    y = np.asarray(clip, dtype=np.float32)
    y = y / (np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-8) * 0.1  # the level says nothing of the genre
    spec = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel = librosa.feature.melspectrogram(S=spec, sr=sr, n_mels=40, fmax=sr / 2)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)
    delta = librosa.feature.delta(mfcc)
    mag = np.sqrt(spec)
    contrast = librosa.feature.spectral_contrast(S=mag, sr=sr, n_fft=N_FFT, fmin=100.0, n_bands=4)
    frames = [librosa.feature.spectral_centroid(S=mag, sr=sr), librosa.feature.spectral_bandwidth(S=mag, sr=sr),
              librosa.feature.spectral_rolloff(S=mag, sr=sr), librosa.feature.spectral_flatness(S=mag),
              librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP),
              np.log(librosa.feature.rms(S=mag, frame_length=N_FFT) + 1e-6)]
    onset = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sr, hop_length=HOP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tempo estimation warns on clips without onsets
        tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP))[0])
    ac = librosa.autocorrelate(onset - onset.mean())
    ac = ac / (ac[0] + 1e-8)
    lags = slice(int(0.25 * sr / HOP), int(2.0 * sr / HOP))  # beat periods of 0.25-2 s
    rhythm = [onset.mean(), onset.std() / (onset.mean() + 1e-8), np.log(tempo + 1.0), ac[lags].max(),
              float(np.argmax(ac[lags])) / (lags.stop - lags.start)]
    stats = lambda m: np.concatenate([m.mean(axis=1), m.std(axis=1)])  # noqa: E731
    return np.concatenate([stats(mfcc), delta.std(axis=1), stats(contrast),
                           stats(np.concatenate(frames)), np.asarray(rhythm)]).astype(np.float64)


def clip_feature_matrix(clips: np.ndarray) -> np.ndarray:
    """:func:`clip_features` of each clip ``(n, 20000)`` -> ``(n, n_features)``."""
    return np.stack([clip_features(c) for c in as_clips(clips)])


class FeatureJudge(Judge):
    """Standardised hand-made features -> multinomial logistic regression."""

    suffix = ".npz"
    description = ("scikit-learn logistic regression on hand-made features (MFCC means/stds and deltas, spectral "
                   "contrast, centroid, bandwidth, rolloff, flatness, zero crossings, level dynamics, onset "
                   "strength and tempo statistics) computed with librosa at 4 kHz, 512/128 STFT")

    def __init__(self, genres, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 meta: dict | None = None) -> None:
        super().__init__(genres, meta)
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    def _standardised(self, clips: np.ndarray) -> np.ndarray:
        return (clip_feature_matrix(clips) - self.mean) / self.scale

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        return softmax(self._standardised(clips) @ self.coef.T + self.intercept)

    def embed(self, clips: np.ndarray) -> np.ndarray:
        return self._standardised(clips)

    def save(self, path: str | Path) -> Path:
        arrays = {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept,
                  "genres": np.array(self.genres), "meta": np.array(json.dumps(self.meta)),
                  "format": np.array(FORMAT)}
        return atomic_save_npz(path, arrays)

    @classmethod
    def load(cls, path: str | Path) -> "FeatureJudge":
        remake = "make one with 'auralize train-judge features --data DIR'"
        z = read_npz(path, "a features judge", remake)

        def damaged(why: str) -> AuralizeError:
            return AuralizeError(f"{path} is not a features judge auralize can read ({why}); {remake}")

        if "format" not in z or z["format"].shape != () or str(z["format"]) != FORMAT:
            raise damaged(f"its format is not {FORMAT}")
        arrays = {k: z.get(k) for k in ("mean", "scale", "coef", "intercept", "genres", "meta")}
        missing = [k for k, v in arrays.items() if v is None]
        if missing:
            raise damaged(f"it has no {missing[0]}")
        if any(arrays[k].dtype.kind not in "iuf" or not np.isfinite(arrays[k]).all()
               or np.abs(arrays[k]).max(initial=0) > MAX_WEIGHT for k in ("mean", "scale", "coef", "intercept")):
            raise damaged(f"its weights hold NaN, infinity, values beyond {MAX_WEIGHT:g} or no numbers")
        genres = arrays["genres"]
        n = arrays["mean"].size  # that it is what clip_features gives, check_judge's probe finds out
        if (genres.ndim != 1 or arrays["mean"].shape != (n,) or arrays["scale"].shape != (n,)
                or arrays["coef"].shape != (len(genres), n) or arrays["intercept"].shape != (len(genres),)):
            raise damaged(f"its arrays do not fit {len(genres) if genres.ndim == 1 else 0} genres of {n} features "
                          f"(coef {arrays['coef'].shape})")
        if not (arrays["scale"] > 0).all():
            raise damaged("its feature scales are not positive")
        try:
            meta = json.loads(str(arrays["meta"]))
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            raise damaged("its meta is not a JSON object")
        return cls(tuple(str(g) for g in genres), *(np.asarray(arrays[k], np.float64)
                                                     for k in ("mean", "scale", "coef", "intercept")), meta)

    @classmethod
    def fit(cls, clips, seed: int = 0, log: Callable[[str], None] = print) -> "FeatureJudge":
        from sklearn.linear_model import LogisticRegression

        x_train, y_train = clips.part("train")
        x_valid, y_valid = clips.part("valid")
        log(f"features: computing hand-made features of {len(x_train) + len(x_valid)} clips")
        f_train, f_valid = clip_feature_matrix(x_train), clip_feature_matrix(x_valid)
        mean, scale = f_train.mean(0), f_train.std(0) + 1e-8
        z_train, z_valid = (f_train - mean) / scale, (f_valid - mean) / scale
        best = None
        for c in (0.01, 0.03, 0.1, 0.3, 1.0):  # regularisation chosen on the validation part
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
            model.fit(z_train, y_train)
            acc = float((model.predict(z_valid) == y_valid).mean())
            log(f"features: C={c:g} valid clip accuracy {acc:.3f}")
            if best is None or acc > best[0]:
                best = (acc, c, model)
        acc, c, model = best
        coef = np.zeros((len(clips.genres), z_train.shape[1]))
        intercept = np.full(len(clips.genres), -1e9)  # a genre absent from training is never predicted
        if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes: p(second) = sigmoid(row)
            coef[model.classes_[1]], intercept[model.classes_] = model.coef_[0], (0.0, model.intercept_[0])
            coef[model.classes_[0]] = 0.0
        else:
            coef[model.classes_] = model.coef_
            intercept[model.classes_] = model.intercept_
        return cls(clips.genres, mean, scale, coef, intercept,
                   {"C": c, "best_valid_acc": acc, "n_features": int(z_train.shape[1]), "seed": seed})
