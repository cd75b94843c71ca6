"""Build a listening quiz: the items and pairs, the panel's answers to them, the page and its key."""
from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import features as F
from .. import results
from ..errors import AuralizeError
from ..io import atomic_write_text
from .items import (CANT_TELL, CONDITIONS, Item, folder_items, noise_items, pairs_of, real_items,
                    resynthesised_items)
from .page import AUDIO_FORMATS, render


@dataclass
class Quiz:
    """What :func:`build_quiz` wrote."""

    page: Path
    key: Path
    n_items: int
    n_pairs: int
    page_bytes: int
    counts: dict[str, int] = field(default_factory=dict)  # items per condition

    def summary(self) -> str:
        """One line: the page, its size and what it asks."""
        parts = "; ".join(f"{c}: {n}" for c, n in self.counts.items())
        return (f"wrote {self.page} ({self.page_bytes / 2**20:.2f} MB: {self.n_items} items ({parts}), "
                f"{self.n_pairs} A/B pairs) and its answer key {self.key} (keep it: never send it with the page)")


def _encode(audio: np.ndarray, fmt: str) -> bytes:
    container, subtype, _ = AUDIO_FORMATS[fmt]
    buf = io.BytesIO()
    import soundfile as sf

    sf.write(buf, np.clip(audio, -1.0, 1.0), F.SAMPLE_RATE, format=container, subtype=subtype)
    return buf.getvalue()


def _panel_answers(items: list[Item], genres: list[str], judges) -> list[tuple[str, dict[str, float]]]:
    """The panel's answer to each item (its majority verdict, or can't tell when it is split or names a
    genre the quiz does not offer) and its mean p(genre) for each of the quiz's genres."""
    from ..panel import judge

    out = []
    for v in judge(np.stack([i.audio for i in items]), judges=judges):
        p = {g: float(np.mean([j.probabilities.get(g, 0.0) for j in v.verdicts])) for g in genres}
        out.append((v.majority if v.majority in genres else CANT_TELL, p))
    return out


def build_quiz(folder: str | Path, out: str | Path | None = None, *, controls: bool = False,
               data_dir: str | Path | None = None, real: int = 0, resynth: bool = False, noise: bool = False,
               seed: int = 0,
               panel: bool = True, judges=None, audio: str = "flac", title: str = "Listening test",
               force: bool = False) -> Quiz:
    """Write a blind listening quiz of the dreams in ``folder``, and its answer key beside it.

    Parameters
    ----------
    folder : a folder of dreams (``auralize --genre all -o folder``)
    out : the page (default ``folder/quiz.html``); the key is ``<page stem>.key.json`` beside it
    controls : also ask about the dreams' controls (prior-only and model-only dreams in the folder)
    data_dir, real : also ask about ``real`` real clips per genre of the held-out test tracks of
        ``data_dir`` (the shipped checkpoints' split)
    resynth : also ask about the same real clips made as a dream's audio is (fine-grid magnitude,
        Griffin-Lim phase): what any dream on that grid must lose
    noise : also ask about white noise and noise with the mean spectrum of real music
    seed : the order of the items in the page and their ids (each listener's order is drawn in
        the page from their listener id)
    panel : record the held-out panel's answers in the key (``--score`` compares people with them)
    judges : the panel's judges (default :data:`auralize.panel.PANEL`)
    audio : ``flac`` or ``vorbis`` (:data:`AUDIO_FORMATS`)
    title : the page's title
    force : replace the key of another quiz at the same place (its answers could no longer be scored)

    Returns
    -------
    Quiz

    Raises
    ------
    AuralizeError
        If the folder holds no dreams, ``real`` is asked without ``data_dir`` (or the data has
        no test clips of the folder's genres), ``audio`` is unknown, or the key would replace
        another quiz's (without ``force``).
    """
    if audio not in AUDIO_FORMATS:
        raise AuralizeError(f"audio must be one of {', '.join(AUDIO_FORMATS)}, got {audio!r}", param="audio")
    if real < 0 or (real and data_dir is None):
        raise AuralizeError("real clips need a data folder and a count >= 1: --data DIR --real K", param="real")
    if resynth and not real:
        raise AuralizeError("resynth remakes the real clips: ask for them too (--data DIR --real K)", param="resynth")
    page_path = Path(out) if out is not None else Path(folder) / "quiz.html"
    if page_path.suffix.lower() not in (".html", ".htm"):
        raise AuralizeError(f"the quiz page must be an .html file, got {page_path}", param="out")
    items = folder_items(folder, controls)
    genres = sorted({i.genre for i in items if i.genre is not None})
    from ..data import load_clips

    clips = load_clips(data_dir) if data_dir is not None and (real or noise) else None  # read once, for both
    if real:
        reals = real_items(clips, genres, real, data_dir)
        items += reals + (resynthesised_items(reals, seed) if resynth else [])
    if noise:
        items += noise_items(seed, clips, [i for i in items if i.condition == "dream"])
    pairs = pairs_of(items)
    encoded = [_encode(i.audio, audio) for i in items]
    # The quiz's id hangs on what it plays and asks, so answers to another quiz never match its key.
    digest = hashlib.sha256(repr((seed, genres, audio, [i.condition for i in items])).encode())
    for data in encoded:
        digest.update(hashlib.sha256(data).digest())
    quiz = digest.hexdigest()[:16]
    rng = np.random.default_rng([seed, int(quiz, 16) % 2**32])
    tokens: set[str] = set()

    def token() -> str:
        while True:
            t = f"{int(rng.integers(0, 2**48)):012x}"
            if t not in tokens:
                tokens.add(t)
                return t

    media = [token() for _ in items]
    item_ids = [token() for _ in items]
    pair_ids = [token() for _ in pairs]
    answers = _panel_answers(items, genres, judges) if panel else [None] * len(items)
    key_items = {}
    for k, item in enumerate(items):
        entry = {"condition": item.condition, "genre": item.genre, "source": item.source, "media": media[k]}
        if answers[k] is not None:
            entry["panel"], entry["panel_p"] = answers[k]
        key_items[item_ids[k]] = entry
    key_pairs = {}
    for pid, (question, d, o) in zip(pair_ids, pairs):
        genre = items[d].genre
        entry = {"question": question, "genre": genre, "dream": media[d], "other": media[o],
                 "dream_item": item_ids[d], "other_item": item_ids[o]}
        if answers[d] is not None:  # the panel prefers whichever it hears as more of the genre
            entry["panel"] = media[d] if answers[d][1][genre] > answers[o][1][genre] else media[o]
        key_pairs[pid] = entry
    order = rng.permutation(len(items))  # the page's order says nothing of an item's condition
    page_items = [{"id": item_ids[k], "media": media[k]} for k in order]
    page_pairs = []
    for pid in (pair_ids[k] for k in rng.permutation(len(pairs))):
        a, b = key_pairs[pid]["dream"], key_pairs[pid]["other"]
        a, b = (b, a) if rng.random() < 0.5 else (a, b)
        page_pairs.append({"id": pid, "genre": key_pairs[pid]["genre"], "a": a, "b": b})
    page_media = {media[k]: base64.b64encode(encoded[k]).decode("ascii") for k in order}
    key_path = page_path.with_name(page_path.stem + ".key.json")
    if key_path.exists() and not force:
        try:
            old = results.read(key_path, "quiz-key")["quiz"]
        except AuralizeError:
            old = None
        if old != quiz:
            raise AuralizeError(f"{key_path} holds the key of another quiz: answers to that page could no longer be "
                                "scored; give another page name (-o) or --force", param="out")
    text = render(quiz, genres, CANT_TELL, page_items, page_pairs, page_media, AUDIO_FORMATS[audio][2], title)
    from ..panel.verdict import judge_names

    results.write(key_path, "quiz-key", {
        "quiz": quiz, "page": page_path.name, "seed": seed, "audio": audio, "genres": genres,
        "cant_tell": CANT_TELL, "panel_judges": judge_names(judges) if panel else [],
        "items": key_items, "pairs": key_pairs})
    atomic_write_text(page_path, text)
    counts = {c: sum(1 for i in items if i.condition == c) for c in CONDITIONS}
    return Quiz(page_path, key_path, len(items), len(pairs), len(text.encode()), {c: n for c, n in counts.items() if n})
