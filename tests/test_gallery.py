"""The listening gallery: a self-contained page, and a real headless browser that plays it."""
import json
import re
import shutil
import subprocess

import matplotlib
import numpy as np
import pytest
import soundfile as sf

from auralize import results as R
from auralize.errors import AuralizeError
from auralize.gallery import write_gallery

matplotlib.use("Agg")


def _png(path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(path)
    plt.close(fig)


def _tone(path, sr, seconds=1.0):
    t = np.arange(int(sr * seconds)) / sr
    sf.write(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, subtype="PCM_16")


@pytest.fixture()
def results(tmp_path):
    root = tmp_path / "results"
    for sub, genre, p in (("spec", "jazz", 0.97), ("spec", "metal", 0.42), ("wave", "jazz", 0.91)):
        stem = root / sub / genre
        stem.parent.mkdir(parents=True, exist_ok=True)
        _tone(stem.with_suffix(".wav"), 4000)
        _tone(stem.with_name(genre + "-22050.wav"), 22050)
        _png(stem.with_suffix(".png"))
        meta = {"genre": genre, "checkpoint": "trained/lstm.pt", "model": "lstm", "objective": "log p(x)",
                "settings": {"param": sub, "seconds": 5, "steps": 10, "seed": 0},
                "round_trip": {"p_target_mean": p, "p_target_min": p, "p_target_per_clip": [p], "verdict": genre}}
        R.write(stem.with_suffix(".json"), "dream", meta)
    ex = root / "explain-song"
    ex.mkdir()
    _tone(ex / "listened.wav", 4000)
    _tone(ex / "listened-22050.wav", 22050)
    _png(ex / "explain.png")
    R.write(ex / "explain.json", "explanation", {
        "song": "song.wav", "checkpoint": "trained/lstm.pt", "genres": ["jazz", "metal"], "verdict": "jazz",
        "method": "integrated_gradients", "clip_probabilities": [[0.8, 0.2], [0.3, 0.7]],
        "files": {"png": "explain.png", "wav": "listened.wav", "wav_22050": "listened-22050.wav",
                  "attention_png": None}})
    neurons = {"default": "layer2.h", "reports": {"layer2.h": {
        "layer": "layer2.h", "rule": "mean", "quantile": 0.9, "genres": ["jazz", "metal"], "n_clips": [5, 0],
        "top": {"jazz": [{"unit": 7, "active_rate": 0.8, "mean_activation": 0.5, "lift": 8.0}], "metal": []}}}}
    R.write(root / "lstm.neurons.json", "neurons", neurons)
    return root


def test_page_is_self_contained_and_complete(results):
    page = write_gallery(results)
    text = page.read_text()
    assert page == results / "index.html"
    assert 'id="genre-jazz"' in text and 'id="genre-metal"' in text
    assert text.count("<audio") == 4  # three dreams and one explanation
    assert text.count('src="data:audio/wav;base64,') == 4 and text.count('src="data:image/png;base64,') == 4
    assert "0.970" in text and '<span class="bad">0.420</span>' in text and "verdict <b>jazz</b>" in text
    assert "<td>7</td><td>80%</td>" in text  # jazz's top neuron beside its dreams
    assert not re.search(r'(src|href)="https?://', text)
    assert write_gallery(results, results / "again.html").read_bytes() == page.read_bytes()


def test_bad_folders(tmp_path):
    with pytest.raises(AuralizeError, match="not found"):
        write_gallery(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AuralizeError, match="nothing to show"):
        write_gallery(tmp_path / "empty")


def test_plays_in_a_real_browser(results, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium): browser test skipped")
    page = write_gallery(results)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
           "--autoplay-policy=no-user-gesture-required", "--dump-dom", page.as_uri() + "#selftest"]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout
    found = re.search(r'<pre id="selftest"[^>]*>(.*?)</pre>', dom, re.S)
    assert found and found.group(1).strip(), dom[-2000:]
    report = json.loads(found.group(1))
    assert report["errors"] == []
    assert len(report["durations"]) == 4 and all(d > 0 for d in report["durations"]), report
