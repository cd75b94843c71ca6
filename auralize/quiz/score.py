"""Scoring a listening quiz: what people heard, per condition and per listener, beside the panel.

For each condition (:data:`~auralize.quiz.items.CONDITIONS`) the share of answers that name the
item's genre, with a 95% Wilson interval; for each kind of A/B pair the share of answers that
prefer the dream, with its two-sided binomial p against no preference; how often people give
the panel's answer; a confusion matrix; and one row per listener. The panel's own figures stand
beside the people's, computed the same way over the same items, so a listener who always gives
the panel's answer scores exactly the panel's figures.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import results
from ..io import atomic_write, atomic_write_text
from .answers import Answers
from .items import CONDITIONS, PAIRS


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95% by default); ``(0, 1)`` when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_p(k: int, n: int) -> float:
    """Two-sided exact binomial p of ``k`` successes in ``n`` against one half (1 when ``n`` is 0)."""
    if n == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(k, n, 0.5).pvalue)


def _share(k: int, n: int) -> dict:
    lo, hi = wilson(k, n)
    return {"k": k, "n": n, "share": k / n if n else None, "ci95": [lo, hi]}


def _table(answered) -> dict[str, dict[str, int]]:
    """Item genre -> answer -> count (noise under ``(none)``)."""
    table: dict[str, dict[str, int]] = {}
    for entry, answer in answered:
        cell = table.setdefault(entry.get("genre") or "(none)", {})
        cell[answer] = cell.get(answer, 0) + 1
    return table


def score_quiz(key: dict, answers: list[Answers]) -> dict:
    """People's figures and the panel's for a quiz, from its key and the listeners' answers.

    Returns
    -------
    dict
        ``conditions`` (condition -> accuracy, interval, can't-tell count, agreement with the
        panel, the panel's accuracy, what each answer was), ``pairs`` (question -> preference
        for the dream, binomial p, the panel's preference), ``confusion`` (condition -> item
        genre -> answer -> count), ``per_listener`` and ``listeners``.
    """
    cant = key.get("cant_tell", "can't tell")
    conditions, confusion = {}, {}
    for condition in CONDITIONS:
        items = {i: e for i, e in key["items"].items() if e["condition"] == condition}
        if not items:
            continue
        given = [(e, a.answers[i][0]) for a in answers for i, e in items.items() if i in a.answers]
        targeted = [(e, ans) for e, ans in given if e.get("genre")]
        row = {"what": CONDITIONS[condition], "items": len(items), "answers": len(given),
               "cant_tell": sum(ans == cant for _, ans in given),
               "heard_as": {g: sum(ans == g for _, ans in given) for g in [*key["genres"], cant]}}
        if targeted:
            row["people"] = _share(sum(ans == e["genre"] for e, ans in targeted), len(targeted))
        judged = [e for e in items.values() if "panel" in e]
        if judged:
            with_genre = [e for e in judged if e.get("genre")]
            if with_genre:
                row["panel"] = _share(sum(e["panel"] == e["genre"] for e in with_genre), len(with_genre))
            row["panel_heard_as"] = {g: sum(e["panel"] == g for e in judged) for g in [*key["genres"], cant]}
            agree = [(e["panel"], ans) for e, ans in given if "panel" in e]
            row["agree_with_panel"] = _share(sum(p == ans for p, ans in agree), len(agree))
        conditions[condition] = row
        confusion[condition] = {"people": _table(given), "panel": _table([(e, e["panel"]) for e in judged])}
    pairs = {}
    for question in PAIRS:
        mine = {i: e for i, e in key["pairs"].items() if e["question"] == question}
        if not mine:
            continue
        chosen = [(e, a.answers[i][0]) for a in answers for i, e in mine.items() if i in a.answers]
        k = sum(ans == e["dream"] for e, ans in chosen)
        row = {"pairs": len(mine), "people": {**_share(k, len(chosen)), "p": binomial_p(k, len(chosen))}}
        judged = [e for e in mine.values() if "panel" in e]
        if judged:
            kp = sum(e["panel"] == e["dream"] for e in judged)
            row["panel"] = {**_share(kp, len(judged)), "p": binomial_p(kp, len(judged))}
        pairs[question] = row
    per_listener = []
    for a in answers:
        entry = {"listener": a.listener, "answered": len(a.answers), "seconds": round(a.seconds, 1)}
        for condition in conditions:
            hits = [a.answers[i][0] == e["genre"] for i, e in key["items"].items()
                    if e["condition"] == condition and e.get("genre") and i in a.answers]
            entry[condition] = sum(hits) / len(hits) if hits else None
        for question in pairs:
            prefs = [a.answers[i][0] == e["dream"] for i, e in key["pairs"].items()
                     if e["question"] == question and i in a.answers]
            entry[question] = sum(prefs) / len(prefs) if prefs else None
        per_listener.append(entry)
    return {"quiz": key["quiz"], "listeners": [a.listener for a in answers], "conditions": conditions,
            "pairs": pairs, "confusion": confusion, "per_listener": per_listener}


def _pct(share: dict | None) -> str:
    if not share or share["share"] is None:
        return "-"
    lo, hi = share["ci95"]
    return f"{share['k']}/{share['n']} = {share['share']:.2f} [{lo:.2f}, {hi:.2f}]"


def _most(counts: dict | None) -> str:
    """The answer given most often (``-`` when none was given)."""
    if not counts or not any(counts.values()):
        return "-"
    top = max(counts, key=counts.get)
    return f"{top} ({counts[top]} of {sum(counts.values())})"


def score_lines(scored: dict) -> list[str]:
    """The score as Markdown tables (what ``auralize listen --score`` prints and writes)."""
    who = (f"{len(scored['listeners'])} listener(s): {', '.join(scored['listeners'])}" if scored["listeners"] else
           "no listeners yet: the panel's figures alone")
    out = [f"Quiz {scored['quiz']}: {who}", "",
           "| condition | items | answers | people: heard as its genre [95% CI] | panel: heard as its genre "
           "| people give the panel's answer | can't tell | people hear most | panel hears most |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name, row in scored["conditions"].items():
        out.append(f"| {name} | {row['items']} | {row['answers']} | {_pct(row.get('people'))} | "
                   f"{_pct(row.get('panel'))} | {_pct(row.get('agree_with_panel'))} | {row['cant_tell']} | "
                   f"{_most(row['heard_as'])} | {_most(row.get('panel_heard_as'))} |")
    if scored["pairs"]:
        out += ["", "| A/B question | pairs | people prefer the dream [95% CI] | binomial p | panel prefers the dream "
                "| panel's binomial p |", "|---|---|---|---|---|---|"]
        p = lambda share: f"{share['p']:.3g}" if share and share["n"] else "-"  # noqa: E731
        for name, row in scored["pairs"].items():
            out.append(f"| {name} | {row['pairs']} | {_pct(row['people'])} | {p(row['people'])} | "
                       f"{_pct(row.get('panel'))} | {p(row.get('panel'))} |")
    heads = [c for c, row in scored["conditions"].items() if "people" in row or "panel" in row] + list(scored["pairs"])
    if scored["per_listener"]:
        out += ["", "| listener | answered | seconds | " + " | ".join(heads) + " |", "|---" * (3 + len(heads)) + "|"]
    for entry in scored["per_listener"]:
        cells = ["-" if entry.get(h) is None else f"{entry[h]:.2f}" for h in heads]
        out.append(f"| {entry['listener']} | {entry['answered']} | {entry['seconds']:.0f} | " + " | ".join(cells) + " |")
    return out


def confusion_figure(scored: dict, genres: list[str], cant_tell: str, path: str | Path) -> Path:
    """Confusion matrices (rows: the item's genre; columns: the answer), a column per condition and a row for
    people and one for the panel, as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = list(scored["confusion"])
    who = [w for w in ("people", "panel") if any(scored["confusion"][c][w] for c in names)] or ["people"]
    cols = [*genres, cant_tell]
    fig, axes = plt.subplots(len(who), max(1, len(names)), figsize=(2.6 * max(1, len(names)) + 0.6, 3.2 * len(who)),
                             squeeze=False)
    for r, w in enumerate(who):
        for ax, name in zip(axes[r], names):
            table = scored["confusion"][name][w]
            rows = [g for g in [*genres, "(none)"] if g in table]
            if not rows:
                ax.axis("off")
                continue
            m = np.array([[table[g].get(c, 0) for c in cols] for g in rows], dtype=float)
            ax.imshow(m / np.maximum(m.sum(1, keepdims=True), 1), vmin=0, vmax=1, cmap="Blues", aspect="auto")
            for (i, j), v in np.ndenumerate(m):
                if v:
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
            ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=6)
            ax.set_yticks(range(len(rows)), rows, fontsize=6)
            ax.set_title(f"{name}: {w}", fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    return Path(path)


def write_score(scored: dict, key: dict, stem: str | Path, skipped: list[str] = ()) -> dict[str, Path]:
    """Write ``<stem>.json`` (a ``quiz-score`` result), ``<stem>.md`` and ``<stem>-confusion.png``."""
    stem = Path(stem)
    files = {"json": stem.with_name(stem.name + ".json"), "md": stem.with_name(stem.name + ".md"),
             "png": stem.with_name(stem.name + "-confusion.png")}
    confusion_figure(scored, key["genres"], key.get("cant_tell", "can't tell"), files["png"])
    atomic_write_text(files["md"], "\n".join(score_lines(scored)) + "\n")
    results.write(files["json"], "quiz-score", {**scored, "skipped": list(skipped),
                                                "files": {k: v.name for k, v in files.items()}})
    return files
