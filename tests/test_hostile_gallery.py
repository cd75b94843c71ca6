"""Issue 10 on the gallery and explain: hostile result folders, careless options, long songs.

Each test goes through the CLI (click's runner); the gallery tests also open the page in headless
Chromium and check that no script from the data ran.
"""
import base64
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from auralize import results as R
from conftest import one_line_error, run_cli, synth_track

# Each would change the page's title or write PWNED into it if it ran; the word is built by the
# script, so it appears in the page only if a script from the data ran.
PWNED = "PWNED"
PAYLOADS = ["<img src=x onerror=\"document.title='PW'+'NED'\">",
            "<script>document.write('PW'+'NED')</script>",
            "\"><svg onload=\"document.body.insertAdjacentText('beforeend','PW'+'NED')\">"]


def invoke(*args):
    return run_cli(args)


one_line = one_line_error


def _tone(path, sr=4000, seconds=1.0):
    t = np.arange(int(sr * seconds)) / sr
    sf.write(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, subtype="PCM_16")


def _dream(root, name, genre="jazz", **fields):
    stem = root / name
    stem.parent.mkdir(parents=True, exist_ok=True)
    _tone(stem.with_suffix(".wav"))
    meta = {"genre": genre, "objective": "log p", "model": "lstm", "checkpoint": "trained/lstm.pt",
            "round_trip": {"p_target_mean": 0.9, "p_target_min": 0.8, "verdict": genre}, **fields}
    R.write(stem.with_suffix(".json"), "dream", meta)
    return stem.with_suffix(".json")


def _explanation(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    _tone(folder / "listened.wav")
    meta = {"song": "song.wav", "genres": ["jazz", "metal"], "verdict": "jazz", "method": "saliency",
            "clip_probabilities": [[0.8, 0.2]], "files": {"wav": "listened.wav"}, **fields}
    R.write(folder / "explain.json", "explanation", meta)
    return folder / "explain.json"


def _hand_edit(path, **fields):
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def _browse(page, tmp_path):
    """The page's DOM after headless Chromium ran it (with its #selftest script)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium): browser test skipped")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
           "--disable-background-networking", "--disable-component-update",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
           page.as_uri() + "#selftest"]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout
    # The page's own script ran (so scripts were not simply off) ...
    assert re.search(r'<pre id="selftest"[^>]*>\{.*\}</pre>', dom, re.S), dom[-2000:]
    return dom


def _assert_no_script_ran(dom):
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert title == "auralize listening gallery", title
    assert PWNED not in dom, dom[-3000:]


def test_1_every_json_field_is_escaped(tmp_path):
    root = tmp_path / "results"
    p0, p1, p2 = PAYLOADS
    _dream(root, "jazz", genre=p0, objective=p1, model=p2, checkpoint=p1,
           round_trip={"p_target_mean": 0.9, "verdict": p2}, settings={"param": p0, "seed": p1})
    _explanation(root / "ex", song=p0, method=p1, checkpoint=p2, genres=[p0, p1], verdict=p0)
    report = {"layer": p1, "rule": p2, "quantile": 0.9, "genres": [p0, p1], "n_clips": [3, 1],
              "top": {p0: [{"unit": 7, "active_rate": 0.5, "mean_activation": 0.1, "lift": 2.0}]}}
    R.write(root / "m.neurons.json", "neurons", {"default": p1, "reports": {p1: report}})
    bad_unit = json.loads((root / "m.neurons.json").read_text())
    bad_unit["reports"][p1]["top"][p0][0]["unit"] = p0  # the payload: a unit that is markup
    (root / "evil.neurons.json").write_text(json.dumps(bad_unit))
    code, out, err = invoke("gallery", root)
    assert code == 0, err
    assert "skipped" in err and "evil.neurons.json" in err and "unit must be a whole number" in err
    text = (root / "index.html").read_text()
    for payload in PAYLOADS:
        assert payload not in text  # markup from the data never reaches the page as markup
    assert "<img src=x" not in text and "<script>document" not in text and "<svg" not in text
    assert "&lt;img src=x onerror=" in text  # shown as text instead, in the dream, explanation and neurons
    assert text.count("<script>") == 1 and "Content-Security-Policy" in text
    _assert_no_script_ran(_browse(root / "index.html", tmp_path))


def test_2_links_cannot_become_javascript(tmp_path):
    root = tmp_path / "results"
    _explanation(root / "javascript:alert(1)")
    _dream(root / "javascript:document.title='PW'+'NED'", "jazz")
    code, out, err = invoke("gallery", root)
    assert code == 0, err
    text = (root / "index.html").read_text()
    hrefs = re.findall(r'href="([^"]*)"', text)
    assert hrefs and all(h.startswith(("./", "#")) for h in hrefs), hrefs
    assert "./javascript%3Aalert%281%29/explain.json" in hrefs
    assert not re.search(r'href="\s*javascript:', text, re.I)
    _assert_no_script_ran(_browse(root / "index.html", tmp_path))


def test_3_no_file_outside_the_folder_is_embedded(tmp_path):
    root = tmp_path / "results"
    secret = tmp_path / "secret.wav"
    _tone(secret, seconds=0.5)
    (tmp_path / "secret.png").write_bytes(b"\x89PNG not really, but secret")
    stolen = [base64.b64encode(p.read_bytes()).decode()[:60] for p in (secret, tmp_path / "secret.png")]
    _explanation(root / "abs", files={"wav": str(secret), "png": str(tmp_path / "secret.png")})
    _explanation(root / "rel", files={"wav": "../../secret.wav", "wav_22050": "../../../../../../etc/passwd"})
    linked = root / "linked"
    _explanation(linked)
    (linked / "listened.wav").unlink()
    (linked / "listened.wav").symlink_to(secret)  # a symlink inside the folder that leads out of it
    outside = _dream(tmp_path / "elsewhere", "metal", genre="metal")
    (root / "metal.json").symlink_to(outside)  # a result file that is itself outside
    _dream(root, "jazz")
    code, out, err = invoke("gallery", root)
    assert code == 0, err
    text = (root / "index.html").read_text()
    assert not any(s in text for s in stolen)
    passwd = "/etc/passwd"
    if os.path.isfile(passwd):
        assert base64.b64encode(open(passwd, "rb").read()).decode()[:40] not in text
    assert err.count("lies outside") >= 5, err
    assert "genre-metal" not in text and 'id="genre-jazz"' in text


def test_4_hand_edited_json_is_skipped_with_a_warning(tmp_path):
    root = tmp_path / "results"
    _dream(root, "good")
    _hand_edit(_dream(root, "trip"), round_trip="high")
    _hand_edit(_dream(root, "prob"), round_trip={"p_target_mean": "0.9", "verdict": "jazz"})
    _hand_edit(_explanation(root / "files"), files="listened.wav")
    _hand_edit(_explanation(root / "probs"), clip_probabilities=[["high", 0.2]])
    _hand_edit(_explanation(root / "rows"), clip_probabilities=[[0.5]])
    (root / "broken.json").write_text('{"kind": "dream", "version": 1, "genre": ')
    (root / "nan.json").write_text('{"kind": "dream", "version": 1, "genre": "jazz", '
                                   '"round_trip": {"p_target_mean": NaN, "verdict": "jazz"}}')
    code, out, err = invoke("gallery", root)
    assert code == 0, err
    for needle in ("round_trip must be an object", "round_trip.p_target_mean must be a number",
                   "files must be an object", "clip_probabilities[0][0] must be a number",
                   "clip_probabilities[0] has 1 values for 2 genres", "broken.json is not a valid result file",
                   "nan.json is not a valid result file"):
        assert needle in err, (needle, err)
    text = (root / "index.html").read_text()
    assert text.count("<audio") == 1 and "1 dreams in 1 genres, 0 explanations" in text


def test_13_incomplete_sets_are_ignored(tmp_path):
    root = tmp_path / "results"
    _dream(root, "jazz")
    half = _explanation(root / "half")
    (half.parent / "listened.wav").unlink()  # its JSON lists a file that is not there
    (root / "orphan").mkdir()
    _tone(root / "orphan" / "listened.wav")  # files without their JSON are not a result at all
    _tone(root / "lone.wav")
    code, out, err = invoke("gallery", root)
    assert code == 0, err
    assert "skipped" in err and "incomplete explanation (listened.wav missing)" in err
    text = (root / "index.html").read_text()
    assert "0 explanations" in text and text.count("<audio") == 1


# --- explain ------------------------------------------------------------------------------------

@pytest.fixture()
def song(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, synth_track("metal", 0, 11.0, 4000), 4000)
    return path


def test_8_non_finite_inputs_and_outputs_are_refused(tmp_path, song):
    import torch

    from auralize import default_checkpoint, load_model, save_checkpoint

    audio = synth_track("metal", 0, 6.0, 4000).astype(np.float64) * 3e29
    sf.write(tmp_path / "loud.wav", audio, 4000, subtype="DOUBLE")  # a float WAV keeps the huge samples
    one_line(*invoke("explain", tmp_path / "loud.wav", "--steps", 2, "-o", tmp_path / "o1", "--quiet")[::2],
             "far outside [-1, 1]")
    model = load_model(default_checkpoint())
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    broken = save_checkpoint(tmp_path / "nan.pt", model, model.meta)
    code, out, err = invoke("explain", song, "--checkpoint", broken, "--steps", 2, "-o", tmp_path / "o2", "--quiet")
    one_line(code, err, "")
    assert "NaN" in err or "non-finite" in err, err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_8_explain_json_is_strict_json(tmp_path, song):
    code, out, err = invoke("explain", song, "--method", "saliency", "-o", tmp_path / "e", "--quiet")
    assert code == 0, err
    text = (tmp_path / "e" / "explain.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in explain.json"))
    assert R.read(tmp_path / "e" / "explain.json", "explanation")["method"] == "saliency"


def test_12_bad_steps_is_one_line(tmp_path, song):
    for steps in ("0", "-3", "nan", "1e9"):
        one_line(*invoke("explain", song, "--steps", steps, "-o", tmp_path / "o")[::2], "--steps")
    one_line(*invoke("explain", song, "--max-seconds", "nan", "-o", tmp_path / "o")[::2], "--max-seconds")
    one_line(*invoke("explain", song, "--max-seconds", "2", "-o", tmp_path / "o")[::2], "--max-seconds")
    assert not (tmp_path / "o").exists()


def test_12_library_names_its_argument(song):
    from auralize import default_checkpoint, load_audio, load_model
    from auralize.errors import AuralizeError
    from auralize.attribution import explain

    with pytest.raises(AuralizeError, match="n_steps must be >= 1, got 0") as err:
        explain(load_model(default_checkpoint()), load_audio(song), n_steps=0)
    assert err.value.param == "n_steps"


@pytest.mark.slow
def test_13_a_failed_explain_leaves_no_folder(tmp_path, song):
    sf.write(tmp_path / "silent.wav", np.zeros(24000, np.float32), 4000)
    one_line(*invoke("explain", tmp_path / "silent.wav", "-o", tmp_path / "a", "--quiet")[::2], "silent")
    one_line(*invoke("explain", song, "--target", "polka", "-o", tmp_path / "b", "--quiet")[::2], "unknown genre")
    one_line(*invoke("explain", tmp_path / "missing.wav", "-o", tmp_path / "c", "--quiet")[::2], "not found")
    (tmp_path / "file").write_text("x")
    one_line(*invoke("explain", song, "-o", tmp_path / "file" / "sub", "--quiet")[::2], "is a file")
    assert not any((tmp_path / n).exists() for n in "abc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "silent.wav", "song.wav"]


@pytest.mark.slow
def test_17_long_songs_are_capped_and_timed(tmp_path):
    long = tmp_path / "long.wav"
    sf.write(long, synth_track("hiphop", 1, 62.0, 4000), 4000)
    code, out, err = invoke("explain", long, "--method", "saliency", "--max-seconds", "45", "-o", tmp_path / "e",
                            "--quiet")
    assert code == 0, err
    assert "warning: " in err and "is 62 s long; using its first 45 s (max_seconds=45)" in err
    assert "explaining 9 clips (45 s) with saliency: 1 gradient evaluations per clip" in err
    assert re.search(r"the first 8 clips took [\d.]+ s: about \d+ s in all", err), err
    assert out.count("clip ") == 9
    assert len(R.read(tmp_path / "e" / "explain.json")["clip_probabilities"]) == 9
