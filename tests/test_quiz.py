"""The listening quiz (issue 16): a blind page, its key apart, answers checked, scored beside the panel."""
import json
import re

import numpy as np
import pytest
import soundfile as sf

from auralize import quiz
from auralize import results as R
from auralize.quiz.page import canonical, fnv1a32
from conftest import one_line_error, run_cli, synth_track

GENRES = ("classical", "hiphop", "metal")


def write_dream(folder, stem, genre, audio, **extra):
    sf.write(folder / f"{stem}.wav", audio, 4000, subtype="PCM_16")
    meta = {"genre": genre, "round_trip": {"p_target_mean": 0.9, "verdict": genre},
            "settings": {"param": "fine", "seed": 0, "prior_weight": 0.1}, **extra}
    R.write(folder / f"{stem}.json", "dream", meta)


@pytest.fixture(scope="module")
def dreams(tmp_path_factory):
    """Three genres' dreams, each with its prior-only control (one sound for all, as a genre-blind prior makes)."""
    folder = tmp_path_factory.mktemp("dreams")
    control = synth_track("metal", 9, 5.0, 4000) * 0.5 + synth_track("classical", 9, 5.0, 4000) * 0.5
    for k, genre in enumerate(GENRES):
        write_dream(folder, genre, genre, synth_track(genre, 5 + k, 5.0, 4000),
                    control={"files": {"wav": str(folder / f"{genre}-control.wav")}})
        write_dream(folder, f"{genre}-control", genre, control, role="control", control_of=f"{genre}.json")
        # the prior alone at the dream's mixture component: not asked about (each dream has one control)
        write_dream(folder, f"{genre}-component-control", genre, 0.9 * control, role="component-control",
                    control_of=f"{genre}.json", settings={"param": "fine", "seed": 0, "model_weight": 0.0})
    (folder / "notes.json").write_text('{"not": "a result"}')
    return folder


@pytest.fixture(scope="module")
def built(dreams, gtzan_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("quiz") / "quiz.html"
    return quiz.build_quiz(dreams, out, controls=True, data_dir=gtzan_dir, real=1, resynth=True, noise=True, seed=3)


def page_data(page):
    text = page.read_text()
    blob = re.search(r'<script type="application/json" id="quiz-data">(.*?)</script>', text, re.S).group(1)
    return text.replace(blob, ""), json.loads(blob)


def test_quiz_holds_what_was_asked(built):
    assert built.counts == {"dream": 3, "control": 3, "real": 3, "resynthesised": 3, "white noise": 1,
                            "mean-spectrum noise": 1}
    assert (built.n_items, built.n_pairs) == (14, 6)  # each dream against its control and a real clip
    key = quiz.read_key(built.key)
    assert key["genres"] == list(GENRES) and len(key["items"]) == 14
    _, data = page_data(built.page)
    assert {i["id"] for i in data["items"]} == set(key["items"]) and {p["id"] for p in data["pairs"]} == set(key["pairs"])
    for pid, pair in key["pairs"].items():  # a pair plays a dream and the control or real clip of its genre
        dream = next(e for e in key["items"].values() if e["media"] == pair["dream"])
        other = next(e for e in key["items"].values() if e["media"] == pair["other"])
        assert dream["condition"] == "dream" and dream["genre"] == other["genre"] == pair["genre"]
        assert other["condition"] == {"dream vs control": "control", "dream vs real": "real"}[pair["question"]]
    for e in key["items"].values():  # the panel's answer is one the page offers
        assert e["panel"] in (*GENRES, quiz.CANT_TELL) and set(e["panel_p"]) == set(GENRES)


def test_page_gives_nothing_away(built, dreams):
    markup, data = page_data(built.page)
    key = quiz.read_key(built.key)
    # Genre names only as the answer buttons (data["genres"], the same for every item) and in the genre an A/B
    # pair asks about; nowhere in the markup, in an item, an id or the audio itself.
    assert data["genres"] == list(GENRES)
    for genre in GENRES:
        assert genre not in markup.lower()
        assert all(genre not in json.dumps(i) for i in data["items"])
        assert all(genre not in p["id"] + p["a"] + p["b"] for p in data["pairs"])
        assert all(genre.encode() not in __import__("base64").b64decode(m).lower() for m in data["media"].values())
    # No file name, condition, source or panel verdict of the key in the page.
    for entry in key["items"].values():
        assert entry["source"] not in markup and entry["source"] not in json.dumps(data["items"])
    for word in ("control", "dream", ".wav", "panel", "noise", str(dreams)):
        assert word not in markup.lower()
    assert '"condition"' not in built.page.read_text() and '"source"' not in built.page.read_text()
    # Audio of one kind, one length and one level: the media say nothing of what an item is.
    lengths = set()
    for m in data["media"].values():
        audio, sr = sf.read(__import__("io").BytesIO(__import__("base64").b64decode(m)))
        lengths.add((sr, len(audio)))
        assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.05, rel=0.05)
    assert lengths == {(4000, 20000)}
    # The page's order is not the key's (which is grouped by condition), and no external resource is named.
    assert [i["id"] for i in data["items"]] != list(key["items"])
    assert not re.search(r'(src|href)="(https?:|//)', built.page.read_text())


def test_same_seed_same_files(built, dreams, gtzan_dir, tmp_path):
    again = quiz.build_quiz(dreams, tmp_path / "quiz.html", controls=True, data_dir=gtzan_dir, real=1, resynth=True,
                            noise=True, seed=3)
    assert again.page.read_bytes() == built.page.read_bytes()
    assert json.loads(again.key.read_text())["items"] == json.loads(built.key.read_text())["items"]
    other = quiz.build_quiz(dreams, tmp_path / "other.html", seed=4, panel=False)
    assert other.n_items == 3 and other.n_pairs == 0  # dreams only: no controls, real clips or noise asked
    assert quiz.read_key(other.key)["quiz"] != quiz.read_key(built.key)["quiz"]


def answers_file(path, key, listener, pick, tamper=None):
    """What the page saves for a listener who answers each item with ``pick(item id, key entry)``."""
    answers = [{"item": i, "answer": pick(i, e), "ms": 1000 + n, "plays": 1} for n, (i, e) in
               enumerate([*key["items"].items(), *key["pairs"].items()])]
    data = {"kind": "quiz-answers", "version": 1, "quiz": key["quiz"], "listener": listener, "started": "x",
            "finished": "y", "seconds": sum(a["ms"] for a in answers) / 1000, "answers": answers,
            "checksum": fnv1a32(canonical(key["quiz"], listener, answers))}
    if tamper:
        tamper(data)
    path.write_text(json.dumps(data))
    return path


def panel_pick(item, entry):
    return entry["panel"]


def right_pick(item, entry):
    """The item's own genre (can't tell for noise); in a pair, the dream."""
    return entry["dream"] if "question" in entry else entry.get("genre") or quiz.CANT_TELL


def test_listener_who_answers_as_the_panel_scores_the_panels_figures(built, tmp_path):
    key = quiz.read_key(built.key)
    paths = [answers_file(tmp_path / "a.json", key, "panel-1", panel_pick),
             answers_file(tmp_path / "b.json", key, "right", right_pick)]
    scored = quiz.score_quiz(key, quiz.read_answers(paths[:1], key))
    for name, row in scored["conditions"].items():
        assert row["agree_with_panel"]["share"] == 1.0
        if "people" in row:
            assert row["people"]["share"] == row["panel"]["share"], name
        assert row["heard_as"] == row["panel_heard_as"], name
    for row in scored["pairs"].values():
        assert row["people"]["share"] == row["panel"]["share"] and row["people"]["p"] == row["panel"]["p"]
    # A listener who always names the item's genre, and prefers the dream, scores 1 where a genre is asked.
    both = quiz.score_quiz(key, quiz.read_answers(paths, key))
    right = next(e for e in both["per_listener"] if e["listener"] == "right")
    assert right["dream"] == right["real"] == right["control"] == right["resynthesised"] == 1.0
    assert right["dream vs control"] == 1.0
    assert both["conditions"]["dream"]["people"]["n"] == 6 and both["listeners"] == ["panel-1", "right"]
    files = quiz.write_score(both, key, tmp_path / "score")
    assert R.read(files["json"], "quiz-score")["listeners"] == ["panel-1", "right"]
    assert files["png"].stat().st_size > 1000 and "| dream | 3 | 6 |" in files["md"].read_text()


def test_wilson_and_binomial():
    assert quiz.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert quiz.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert quiz.wilson(0, 0) == (0.0, 1.0)
    assert quiz.binomial_p(9, 10) == pytest.approx(0.021484, abs=1e-6) and quiz.binomial_p(5, 10) == 1.0


def test_bad_answer_files_are_skipped_with_a_reason(built, tmp_path):
    key = quiz.read_key(built.key)
    good = answers_file(tmp_path / "good.json", key, "ana", panel_pick)
    bad = {
        "copy.json": lambda: (tmp_path / "copy.json").write_text(good.read_text()),
        "edited.json": lambda: answers_file(tmp_path / "edited.json", key, "bo", panel_pick,
                                            lambda d: d["answers"][0].update(answer=GENRES[0])
                                            if d["answers"][0]["answer"] != GENRES[0] else
                                            d["answers"][0].update(answer=GENRES[1])),
        "other-quiz.json": lambda: answers_file(tmp_path / "other-quiz.json", {**key, "quiz": "0" * 16}, "cy",
                                                panel_pick),
        "damaged.json": lambda: (tmp_path / "damaged.json").write_text(good.read_text()[:200]),
        "foreign.json": lambda: (tmp_path / "foreign.json").write_text('{"name": "not answers"}'),
        "unknown-item.json": lambda: answers_file(tmp_path / "unknown-item.json", key, "di", panel_pick,
                                                  lambda d: d["answers"][0].update(item="feedfacecafe")),
        "bad-answer.json": lambda: answers_file(tmp_path / "bad-answer.json", key, "ed", lambda i, e: "polka"),
        "wrong-type.json": lambda: answers_file(tmp_path / "wrong-type.json", key, "fi", panel_pick,
                                                lambda d: d["answers"][0].update(ms="soon")),
    }
    for make in bad.values():
        make()
    reasons = []
    kept = quiz.read_answers([good, *(tmp_path / n for n in bad)], key, warn=reasons.append)
    assert [a.listener for a in kept] == ["ana"]
    assert len(reasons) == len(bad) and all("\n" not in r for r in reasons)
    why = dict(zip(bad, reasons))
    assert "answered already" in why["copy.json"] and "checksum does not match" in why["edited.json"]
    assert "not this key's quiz" in why["other-quiz.json"] and "not a valid" in why["damaged.json"]
    assert "not an answers file" in why["foreign.json"] and "not in this quiz" in why["unknown-item.json"]
    assert "not one of the page's choices" in why["bad-answer.json"] and "ms" in why["wrong-type.json"]


def test_cli_builds_and_scores(built, dreams, tmp_path):
    code, out, err = run_cli(["listen", dreams, "-o", tmp_path / "q.html", "--no-panel", "--seed", "1"])
    assert code == 0, err
    assert "3 items (dream: 3)" in out and (tmp_path / "q.key.json").is_file()
    key = quiz.read_key(built.key)
    answers = answers_file(tmp_path / "answers-ana.json", key, "ana", panel_pick)
    code, out, err = run_cli(["listen", "--score", answers, tmp_path / "foreign.json", "--key", built.key])
    assert code == 0 and "| dream | 3 | 3 |" in out and "skipped" in err  # the missing file is skipped, said so
    assert built.key.with_name("quiz.score.json").is_file()
    code, out, err = run_cli(["listen", "--score", "--key", built.key, "-o", tmp_path / "panel"])
    assert code == 0 and "the panel's figures alone" in out and "| dream | 3 | 0 | - |" in out, err


def test_cli_bad_input(dreams, built, tmp_path):
    one_line_error(*run_cli(["listen", tmp_path / "missing"])[::2], "one folder of dreams")
    one_line_error(*run_cli(["listen", dreams, "--real", "2"])[::2], "--data DIR --real K")
    one_line_error(*run_cli(["listen", dreams, "--resynth"])[::2], "--resynth", "--real K")
    (tmp_path / "empty").mkdir()
    one_line_error(*run_cli(["listen", tmp_path / "empty"])[::2], "no dreams in")
    one_line_error(*run_cli(["listen", dreams, "-o", tmp_path / "quiz.txt", "--no-panel"])[::2], ".html")
    # A key already sent out is never replaced by another quiz's (its answers could no longer be scored).
    assert run_cli(["listen", dreams, "-o", tmp_path / "q.html", "--no-panel"])[0] == 0
    assert run_cli(["listen", dreams, "-o", tmp_path / "q.html", "--no-panel"])[0] == 0  # the same quiz again
    one_line_error(*run_cli(["listen", dreams, "-o", tmp_path / "q.html", "--no-panel", "--seed", "5"])[::2],
                   "another quiz", "--force")
    assert run_cli(["listen", dreams, "-o", tmp_path / "q.html", "--no-panel", "--seed", "5", "--force"])[0] == 0
    other = answers_file(tmp_path / "x.json", {**quiz.read_key(built.key), "quiz": "1" * 16}, "zo", panel_pick)
    code, _, err = run_cli(["listen", "--score", other, "--key", built.key])
    assert code == 2 and err.strip().splitlines()[-1].startswith("auralize: error: none of the 1 answers files")
    one_line_error(*run_cli(["listen", "--score", tmp_path / "x.json"])[::2], "--key")
    one_line_error(*run_cli(["listen", "--score"])[::2], "--key alone")


PLAY = """new Promise(function(done){var a=document.getElementById('player');
a.addEventListener('playing',function(){done('playing')});a.addEventListener('error',function(){done('error')});
document.querySelector('#players button').click();setTimeout(function(){done('silent')},10000)})"""


@pytest.mark.slow
def test_scripted_listener_in_a_real_browser(built, tmp_path):
    """Headless Chromium opens the page, plays an item, answers every question as the panel would, reloads
    midway (nothing is lost), saves the answers; --score then gives back exactly the panel's figures."""
    import os
    import shutil

    from browser import Browser, chromium

    if chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium): browser test skipped")
    key = quiz.read_key(built.key)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    b = Browser(tmp_path / "profile", downloads)
    try:
        b.call("Log.enable")
        b.call("Emulation.setDeviceMetricsOverride", {"width": 720, "height": 560, "deviceScaleFactor": 1,
                                                       "mobile": False})
        b.load(built.page.as_uri())
        timings = {"load_ms": b.js("performance.getEntriesByType('navigation')[0].loadEventEnd")}
        assert b.js("!document.getElementById('start').hidden && document.getElementById('question').hidden")
        b.js("document.getElementById('listener').value='bad id!';document.getElementById('begin').click()")
        assert "listener id is" in b.js("document.getElementById('start-error').textContent")
        b.js("document.getElementById('listener').value='scripted';document.getElementById('begin').click()")
        assert b.js(PLAY) == "playing"
        shot = b.screenshot(tmp_path / "quiz.png")
        # On a phone's screen every button fits: nothing runs off to the side.
        b.call("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 2,
                                                       "mobile": True})
        assert b.js("document.documentElement.scrollWidth") <= 360
        assert b.js("[].every.call(document.querySelectorAll('button'),function(x){var r=x.getBoundingClientRect();"
                    "return r.right<=360})")
        state = f"JSON.parse(localStorage.getItem('auralize-quiz/{key['quiz']}/scripted'))"
        n = built.n_items + built.n_pairs
        for k in range(n):
            if k == n // 2:  # a reload resumes at the same question, the answers so far kept
                b.load()
                assert b.js("document.getElementById('count').textContent") == f"{k} of {n} answered"
            q = b.js(state)["order"][k]
            if "genre" in q:
                label = "A" if q["media"][0] == key["pairs"][q["item"]]["panel"] else "B"
            else:
                label = key["items"][q["item"]]["panel"]
            clicked = b.js("(function(l){var b=[].find.call(document.querySelectorAll('#choices button'),"
                           "function(x){return x.textContent===l});if(b)b.click();return !!b})(" + json.dumps(label) + ")")
            assert clicked, label
        assert b.js("!document.getElementById('done').hidden")
        b.js("document.getElementById('download').click()")
        b.wait_event("Browser.downloadProgress", lambda p: p.get("state") == "completed")
        errors = [e for e in b.events if e.get("method") in ("Runtime.exceptionThrown", "Log.entryAdded")
                  and e["params"].get("entry", {}).get("level", "error") == "error"]
        assert errors == []
    finally:
        b.close()
    saved = downloads / "answers-scripted.json"
    assert saved.is_file()
    scored = quiz.score_quiz(key, quiz.read_answers([saved], key))  # the page's checksum is the scorer's
    for name, row in scored["conditions"].items():
        assert row["agree_with_panel"]["share"] == 1.0 and row["heard_as"] == row["panel_heard_as"], name
        assert row.get("people", {}).get("share") == row.get("panel", {}).get("share"), name
    for row in scored["pairs"].values():
        assert row["people"]["share"] == row["panel"]["share"]
    if os.environ.get("AURALIZE_SCREENSHOTS"):  # README's picture: AURALIZE_SCREENSHOTS=docs/img pytest -k browser
        shutil.copy(shot, os.path.join(os.environ["AURALIZE_SCREENSHOTS"], "quiz.png"))
    print(f"quiz page of {built.n_items} items loaded in {timings['load_ms']:.0f} ms")


def test_hostile_dream_files(tmp_path):
    """A genre that is markup, a control_of that climbs out of the folder, a damaged dream: the page stays inert."""
    folder = tmp_path / "dreams"
    folder.mkdir()
    evil = '</script><script>alert(1)</script>'
    write_dream(folder, "a", evil, synth_track("metal", 1, 5.0, 4000))
    write_dream(folder, "b", "jazz", synth_track("classical", 1, 5.0, 4000), role="control",
                control_of="../../../etc/passwd.json")
    write_dream(folder, "c", "jazz", synth_track("classical", 2, 3.0, 4000))  # too short to play
    (folder / "d.json").write_text('{"kind": "dream", "version": 1, "genre": 3}')
    with pytest.warns(UserWarning) as said:
        made = quiz.build_quiz(folder, controls=True, panel=False)
    assert made.counts == {"dream": 1, "control": 1} and made.n_pairs == 0
    assert any("not 5 s" in str(w.message) for w in said) and any("d.json" in str(w.message) for w in said)
    text = made.page.read_text()
    assert evil not in text and text.count("<script") == 2 and "passwd" not in text
