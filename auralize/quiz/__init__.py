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

from .answers import Answers, find_key, read_answers, read_key
from .build import AUDIO_FORMATS, Quiz, build_quiz
from .items import CANT_TELL, CONDITIONS, PAIRS
from .score import binomial_p, score_lines, score_quiz, wilson, write_score

__all__ = ["AUDIO_FORMATS", "Answers", "CANT_TELL", "CONDITIONS", "PAIRS", "Quiz", "binomial_p", "build_quiz",
           "find_key", "read_answers", "read_key", "score_lines", "score_quiz", "wilson", "write_score"]
