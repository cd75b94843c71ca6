"""A listening test for people: a blind quiz page built from dreams and references, and its scoring.

    from auralize import quiz
    made = quiz.build_quiz("dreams/", controls=True, data_dir="gtzan4k", real=3, noise=True)
    # send made.page to listeners; each saves answers-<listener>.json
    key = quiz.read_key(made.key)
    scored = quiz.score_quiz(key, quiz.read_answers(["answers-ana.json"], key))

:mod:`~auralize.quiz.items` gathers what is asked, :mod:`~auralize.quiz.page` is the page,
:mod:`~auralize.quiz.build` writes it with its key, :mod:`~auralize.quiz.answers` reads what comes
back and :mod:`~auralize.quiz.score` scores it beside the held-out panel.
"""
from __future__ import annotations

import importlib

#: Public names -> the submodule that holds them, imported on first use (``auralize listen --help`` reads the
#: audio formats without importing torch).
_WHERE = {"Answers": "answers", "find_key": "answers", "read_answers": "answers", "read_key": "answers",
          "Quiz": "build", "build_quiz": "build", "AUDIO_FORMATS": "page",
          "CANT_TELL": "items", "CONDITIONS": "items", "PAIRS": "items",
          "binomial_p": "score", "score_lines": "score", "score_quiz": "score", "wilson": "score",
          "write_score": "score"}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'auralize.quiz' has no attribute {name!r}")


__all__ = sorted(_WHERE)
