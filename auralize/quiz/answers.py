"""Reading the answers listeners send back: each file checked against the quiz's key, or skipped with a reason."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import results
from ..errors import AuralizeError
from .page import LISTENER_PATTERN, canonical, fnv1a32

#: The largest answers file read (a listener's file is a few kB per hundred items).
MAX_ANSWER_BYTES = 4 * 2**20


@dataclass
class Answers:
    """One listener's answers: item id -> (answer, milliseconds, plays)."""

    path: Path
    listener: str
    answers: dict[str, tuple[str, int, int]]
    seconds: float


def read_key(path: str | Path) -> dict:
    """A quiz's answer key (``<page stem>.key.json``, written by :func:`~auralize.quiz.build_quiz`)."""
    return results.read(path, "quiz-key")


def _why_not(data: dict, key: dict) -> str | None:
    """Why a validated answers file cannot be scored against ``key`` (``None``: it can)."""
    if data["quiz"] != key["quiz"]:
        return f"it answers quiz {data['quiz']!r:.24}, not this key's quiz {key['quiz']!r} (another page, or --key)"
    if not re.fullmatch(LISTENER_PATTERN.strip("^$"), data["listener"]):
        return f"its listener id {data['listener']!r:.48} is not one the page gives"
    seen = set()
    for a in data["answers"]:
        if a["item"] in seen:
            return f"it answers item {a['item']!r:.24} twice"
        seen.add(a["item"])
        if a["item"] in key["items"]:
            if a["answer"] not in (*key["genres"], key.get("cant_tell", "can't tell")):
                return f"its answer {a['answer']!r:.40} is not one of the page's choices"
        elif a["item"] in key["pairs"]:
            pair = key["pairs"][a["item"]]
            if a["answer"] not in (pair["dream"], pair["other"]):
                return f"its answer to pair {a['item']!r} is neither sound of the pair"
        else:
            return f"item {a['item']!r:.24} is not in this quiz"
    if fnv1a32(canonical(data["quiz"], data["listener"], data["answers"])) != data["checksum"]:
        return "its checksum does not match its answers: it was changed after the page saved it"
    return None


def read_answers(paths, key: dict, warn=None) -> list[Answers]:
    """The answers files that belong to ``key``'s quiz; each other file is skipped with a one-line reason.

    Parameters
    ----------
    paths : answers files (``answers-<listener>.json``, saved by the quiz page)
    key : the quiz's key (:func:`read_key`)
    warn : called with each reason a file is skipped (default: none)

    Returns
    -------
    list of Answers
        One per listener (a second file of the same listener, or a copy of one, is skipped).

    Raises
    ------
    AuralizeError
        If no file is left to score.
    """
    warn = warn or (lambda message: None)
    paths = [Path(p) for p in paths]
    kept: dict[str, Answers] = {}
    for path in paths:
        try:
            if path.is_file() and path.stat().st_size > MAX_ANSWER_BYTES:
                raise AuralizeError(f"it is larger than any answers file ({path.stat().st_size} bytes)")
            data = results.read(path, "quiz-answers")
        except results.NotAResult:
            warn(f"skipped {path}: it is not an answers file of an auralize quiz")
            continue
        except AuralizeError as exc:
            warn(f"skipped {path}: {str(exc).replace(str(path), 'it')}")
            continue
        why = _why_not(data, key)
        if why is None and data["listener"] in kept:
            why = f"listener {data['listener']!r} answered already in {kept[data['listener']].path}"
        if why:
            warn(f"skipped {path}: {why}")
            continue
        kept[data["listener"]] = Answers(path, data["listener"],
                                         {a["item"]: (a["answer"], int(a["ms"]), int(a["plays"])) for a in data["answers"]},
                                         float(data.get("seconds") or sum(a["ms"] for a in data["answers"]) / 1000))
    if not kept:
        raise AuralizeError(f"none of the {len(paths)} answers files belongs to this quiz (the reasons are above); "
                            "give the files the quiz page saved, with the key written beside that page (--key)")
    return list(kept.values())


def find_key(paths) -> Path:
    """The key of the quiz the answers files answer: a ``*.key.json`` in their folders or the current one.

    Raises
    ------
    AuralizeError
        If no key there belongs to a quiz that any of the files answers.
    """
    import json

    quizzes = set()
    for path in map(Path, paths):
        try:
            if path.is_file() and path.stat().st_size <= MAX_ANSWER_BYTES:
                quiz = json.loads(path.read_text()).get("quiz")
                quizzes.add(quiz) if isinstance(quiz, str) else None
        except (OSError, ValueError, AttributeError):
            continue  # read_answers says why it is skipped
    folders = dict.fromkeys([Path.cwd(), *(Path(p).resolve().parent for p in paths)])
    for folder in folders:
        for candidate in sorted(folder.glob("*.key.json")):
            try:
                if read_key(candidate)["quiz"] in quizzes:
                    return candidate
            except AuralizeError:
                continue
    raise AuralizeError("found no answer key for these answers beside them or here: give it with --key "
                        "(the <page>.key.json written beside the quiz page)", param="key")
