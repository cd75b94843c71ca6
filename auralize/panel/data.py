"""The audio clips the judges learn from: a data set's 5-s clips with the shipped checkpoints' split."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import features as F
from ..data import Dataset, Split, load_dataset, make_split
from ..errors import AuralizeError

#: The shipped checkpoints' split: song-level, stratified by genre, seed 0. The panel uses the same
#: one so that its test part is held out from the dreaming models and the judges alike.
SPLIT = "track"
SPLIT_SEED = 0


@dataclass
class ClipSet:
    """Audio clips ``audio[i]`` (20000 samples at 4 kHz) aligned with ``dataset``'s clips."""

    audio: np.ndarray  # (n_clips, 20000) float32
    dataset: Dataset
    split: Split

    @property
    def genres(self) -> tuple[str, ...]:
        return self.dataset.genres

    @property
    def label(self) -> np.ndarray:
        return self.dataset.label

    @property
    def track(self) -> np.ndarray:
        return self.dataset.track

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(audio clips, labels) of one part of the split."""
        ids = self.split[name]
        return self.audio[ids], self.dataset.label[ids]


def load_clips(root: str | Path, split_seed: int = SPLIT_SEED, progress: bool = False) -> ClipSet:
    """Read every track under ``root`` as 5-s clips, split song-level with ``split_seed``.

    The clip PSDs come from the feature cache (as for ``auralize train``); the audio is decoded
    again, and must cut into as many clips as the cache holds.
    """
    data = load_dataset(root, progress=progress)
    split = make_split(data, SPLIT, seed=split_seed)
    audio = np.empty((len(data.psd), F.CLIP_SAMPLES), dtype=np.float32)
    for number, track in enumerate(data.tracks):
        ids = np.flatnonzero(data.track == number)
        clips = F.split_clips(F.load_audio(track.path), str(track.path))
        if len(clips) != len(ids):
            raise AuralizeError(f"{track.path} cuts into {len(clips)} clips but the feature cache holds "
                                f"{len(ids)}; clear the cache ($AURALIZE_CACHE) and retry")
        audio[ids] = clips[data.clip_index[ids]]
    return ClipSet(audio, data, split)
