"""A listening gallery: one self-contained HTML page for the dreams and explanations in a folder.

Everything is inline (CSS, the small self-test script, images and audio as base64 data URIs), so
the page works offline, can be mailed around, and makes no network request.

The page is meant to be shared, so it treats the folder as untrusted: it reads only result files
(:func:`auralize.results.read`, which checks every field's type), escapes every value that comes
from them, embeds only files that resolve inside the folder, writes relative links as ``./...``
(never a ``javascript:`` URL), and a Content-Security-Policy lets no script run but its own.
Anything it cannot show safely is skipped with a warning (:mod:`warnings`).
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import warnings
from pathlib import Path
from urllib.parse import quote

from . import results
from .errors import AuralizeError
from .io import atomic_write_text
from .results import panel_line

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;
color:#222;background:#fafafa}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem;margin:.6rem 0 .2rem}.card{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:.8rem 1rem;
margin:.7rem 0}.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.row>div{flex:1 1 320px}
img{max-width:100%;height:auto;border:1px solid #eee}audio{width:100%;margin:.3rem 0}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}td,th{border:1px solid #ddd;padding:.15rem .45rem;text-align:left}
th{background:#f0f0f0}.muted{color:#666;font-size:.85rem}.good{color:#176d2c;font-weight:600}.bad{color:#a1261b;font-weight:600}
pre{white-space:pre-wrap;font-size:.75rem;background:#f6f6f6;padding:.5rem;max-height:22rem;overflow:auto}
nav a{margin-right:.6rem}
"""

# Inert unless the URL ends in #selftest: then it records script errors and every <audio>'s
# duration into <pre id="selftest">, for the headless-browser test.
SELFTEST = """
(function(){if(location.hash!=='#selftest')return;var errors=[],players=[].slice.call(document.querySelectorAll('audio'));
window.addEventListener('error',function(e){errors.push(String(e.message||e))},true);
var oce=console.error;console.error=function(){errors.push([].join.call(arguments,' '));oce.apply(console,arguments)};
var left=players.length,out=document.getElementById('selftest');
function done(){out.textContent=JSON.stringify({errors:errors,durations:players.map(function(a){return a.duration||0})})}
if(!left){done();return}
players.forEach(function(a){function one(){a.removeEventListener('loadedmetadata',one);if(--left===0)done()}
a.addEventListener('loadedmetadata',one);a.addEventListener('error',function(){errors.push('audio error '+(a.title||''));one()});
a.preload='metadata';a.load()})})();
"""


# Only the page's own self-test script may run; nothing may be fetched (data: URIs only).
CSP = ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
       f"script-src 'sha256-{base64.b64encode(hashlib.sha256(SELFTEST.encode()).digest()).decode()}'")


def _e(value) -> str:
    return html.escape(str(value))


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


class _Folder:
    """The results folder as the page sees it: files inside it, or nothing."""

    def __init__(self, root: Path) -> None:
        self.root, self.real = root, root.resolve()

    def inside(self, path: Path, what: str) -> Path | None:
        """``path`` if it resolves inside the folder; otherwise a warning and ``None``."""
        try:
            if path.resolve().is_relative_to(self.real):
                return path
        except (OSError, RuntimeError):  # a symlink loop
            pass
        _warn(f"skipped {what} {path}: it lies outside {self.root}")
        return None

    def href(self, path: Path) -> str:
        """A relative link that a browser cannot read as a scheme (``./javascript%3A...``)."""
        return "./" + quote(path.relative_to(self.root).as_posix())

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


#: The largest file the page embeds (a 10-minute dream at 22050 Hz is 26 MB); a larger one would
#: make a page no browser opens, so it is skipped with a warning.
MAX_EMBED_BYTES = 32 * 2**20


def _fits(path: Path | None) -> bool:
    """Whether ``path`` exists and is small enough to embed; a warning when it is too large."""
    if not _exists(path):
        return False
    size = path.stat().st_size
    if size > MAX_EMBED_BYTES:
        _warn(f"skipped {path}: {size / 2**20:.0f} MB is more than the page embeds ({MAX_EMBED_BYTES / 2**20:.0f} MB)")
        return False
    return True


def _bytes(path: Path | None) -> bytes | None:
    return path.read_bytes() if _fits(path) else None


def _public(value, folder: "_Folder"):
    """``value`` as the shared page shows it: every absolute path made relative to the results
    folder or the repository, else cut to its file name (no user name under /home leaves the machine)."""
    if isinstance(value, dict):
        return {k: _public(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v, folder) for v in value]
    if not (isinstance(value, str) and os.path.isabs(value)):
        return value
    from . import TRAINED_DIR

    path = Path(os.path.normpath(value))
    for base in (folder.real, TRAINED_DIR.resolve().parent):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.name


def _audio(path: Path | None, label: str) -> str:
    wav = _bytes(path)
    return results.html_audio(wav, label) if wav else f'<p class="muted">no audio for {_e(label)}</p>'


def _image(path: Path | None, alt: str) -> str:
    png = _bytes(path)
    return results.html_image(png, alt) if png else ""


def _exists(path: Path | None) -> bool:
    return path is not None and path.is_file() and path.stat().st_size > 0


def _prob(p: float) -> str:
    cls = "good" if p >= 0.9 else ("bad" if p < 0.5 else "")
    return f'<span class="{cls}">{p:.3f}</span>'


def _dream_card(folder: _Folder, path: Path, meta: dict) -> str | None:
    files = results.dream_files(results.dream_stem(path))  # as the writer names them
    if not any(_exists(files[k]) for k in ("wav_22050", "wav")):
        _warn(f"skipped {path}: incomplete dream (no {files['wav'].name} beside it)")
        return None
    wav = next((folder.inside(files[k], "audio") for k in ("wav_22050", "wav") if _fits(files[k])), None)
    png = folder.inside(files["png"], "image") if _exists(files["png"]) else None
    meta = _public(meta, folder)
    settings = meta.get("settings") or {}
    trip = meta["round_trip"]
    facts = ", ".join(f"{k} {_e(settings[k])}" for k in ("param", "seconds", "steps", "seed") if k in settings)
    rel = folder.rel(path)
    lowest = f' (lowest clip {trip["p_target_min"]:.3f})' if trip.get("p_target_min") is not None else ""
    return (
        '<div class="card"><div class="row"><div>'
        f"<h3>{_e(rel)}</h3>"
        + _audio(wav, rel)
        + f'<p><b>{_e(panel_line(meta.get("panel"), meta["genre"]))}</b></p>'
        + _source(folder, path, meta)
        + f'<p class="muted">same-model round trip p({_e(meta["genre"])}) = {_prob(trip["p_target_mean"])}{lowest}, '
        f'heard as {_e(trip["verdict"])}</p>'
        f'<p class="muted">objective: {_e(meta.get("objective", ""))}<br>{facts}<br>'
        f'model: {_e(meta.get("model", ""))} ({_e(meta.get("checkpoint", ""))})</p>'
        f'<p><a href="{_e(folder.href(path))}">{_e(rel)}</a></p>'
        f"<details><summary>JSON</summary><pre>{_e(json.dumps(meta, indent=1))}</pre></details>"
        "</div><div>" + _image(png, f"spectrogram of {rel}") + "</div></div></div>")


def _source(folder: _Folder, path: Path, meta: dict) -> str:
    """What the dream's genre comes from and, when its controls were made, their players and the model's shares."""
    parts = [f'<p>genre from {_e(meta["genre_from"])}</p>'] if meta.get("genre_from") else []
    genre = meta["genre"]
    for key, name, share_key, said, label in (
            ("control", "control", "model_share", "its control, the prior alone (the model off)",
             f"the model's share of the panel's p({_e(genre)})"),
            ("component_control", "component control", "model_share_beyond_component",
             "the prior alone at component {component} of the mixture, where the dream ends",
             "the model's share beyond that kind of music")):
        control = meta.get(key)
        if not control:
            continue
        wav = path.parent / Path(str(control["files"].get("wav_22050") or control["files"].get("wav") or "")).name
        share = f"; {label}: <b>{meta[share_key]:+.3f}</b>" if meta.get(share_key) is not None else ""
        parts.append(f'<p class="muted">{said.format(component=int(control.get("component", 0)))}: '
                     f'{_e(panel_line(control.get("panel"), genre))}{share}</p>'
                     + (_audio(folder.inside(wav, "audio"), f"{name} of {folder.rel(path)}") if _exists(wav) else ""))
    return "".join(parts)


#: How an examples result names its lists, as the page says them.
EXAMPLE_LISTS = {"neuron_top": "drive its top neuron most", "neuron_bottom": "drive it least",
                 "class_top": "the model hears as the genre most", "class_bottom": "it hears as the genre least"}


def _examples_block(folder: _Folder, path: Path, meta: dict, genre: str, entry: dict) -> str:
    """A genre's dataset examples: real clips that drive its top neuron and its class most and least."""
    rows = []
    for key, what in EXAMPLE_LISTS.items():
        players = "".join(
            f'<div><p class="muted">{_e(ex["track"])} at {ex["start"]:g} s: {ex["value"]:.3g}</p>'
            + _audio(folder.inside(path.parent / ex["wav"], "audio"), f"{genre} {key} {n}") + "</div>"
            for n, ex in enumerate(entry.get(key, []), 1) if _exists(path.parent / ex["wav"]))
        if players:
            rows.append(f"<h3>real clips that {_e(what)}</h3><div class=\"row\">{players}</div>")
    png = path.parent / entry["png"] if entry.get("png") else None
    image = _image(folder.inside(png, "image"), f"examples of {genre}") if _exists(png) else ""
    return (f'<details class="card"><summary>what {_e(meta["layer"])}[{_e(entry.get("unit"))}] and the class '
            f'{_e(genre)} respond to in real music: dataset examples ({_e(folder.rel(path))})</summary>'
            + "".join(rows) + image + "</details>")


def _neuron_rows(report: dict, genre: str) -> str:
    top = report["top"].get(genre, [])
    if not top:
        return '<p class="muted">the model predicted no clip as this genre</p>'
    rows = "".join(f"<tr><td>{_e(t['unit'])}</td><td>{100 * t['active_rate']:.0f}%</td>"
                   f"<td>{t['mean_activation']:+.3f}</td><td>{_e(format(t['lift'], '.2f') if t.get('lift') is not None else '')}"
                   "</td></tr>" for t in top)
    return ("<table><tr><th>neuron</th><th>active rate</th><th>mean activation</th><th>lift</th></tr>"
            f"{rows}</table>")


def _explain_card(folder: _Folder, path: Path, meta: dict) -> str | None:
    here = path.parent
    shown = _public(meta, folder)
    files = {k: here / v for k, v in meta["files"].items() if v}
    missing = [k for k in ("png", "wav", "wav_22050") if k in files and not _exists(files[k])]
    if missing:
        _warn(f"skipped {path}: incomplete explanation ({', '.join(meta['files'][k] for k in missing)} missing)")
        return None
    files = {k: folder.inside(f, k) for k, f in files.items()}
    genres = meta["genres"]
    rows = []
    for i, probs in enumerate(meta["clip_probabilities"]):
        if probs:
            best = max(range(len(probs)), key=probs.__getitem__)
            rows.append(f"<tr><td>{i + 1}</td><td>{5 * i}-{5 * i + 5} s</td><td>{_e(genres[best])}</td>"
                        f"<td>{probs[best]:.3f}</td></tr>")
    table = ("<table><tr><th>clip</th><th>time</th><th>genre</th><th>p</th></tr>" + "".join(rows) + "</table>"
             if rows else "")
    wav = files.get("wav_22050") or files.get("wav")
    images = "".join(_image(files.get(k), k) for k in ("png", "attention_png"))
    rel = folder.rel(path)
    return (
        '<div class="card">'
        f"<h3>{_e(Path(str(meta.get('song') or here.name)).name)}: verdict <b>{_e(meta['verdict'])}</b></h3>"
        f'<p class="muted">{_e(meta["method"])}; model {_e(shown.get("checkpoint", ""))}'
        f'; <a href="{_e(folder.href(path))}">{_e(rel)}</a></p>'
        '<div class="row"><div><p>What the model listened to (the song masked by the positive attributions):</p>'
        + _audio(wav, f"listened {rel}") + table + "</div><div>" + images + "</div></div></div>")


def _neurons_section(folder: _Folder, path: Path, meta: dict) -> str:
    parts = []
    for layer, report in meta["reports"].items():
        try:
            heat = path.with_name(path.name.replace(".neurons.json", f".neurons-{layer}.png"))
        except ValueError:  # a layer name with a path separator
            heat = None
        heat = folder.inside(heat, "heatmap") if _exists(heat) else None
        rows = "".join(f"<tr><td>{_e(g)}</td><td>{n:.0f}</td><td>"
                       + _e(", ".join(f"{t['unit']} ({100 * t['active_rate']:.0f}%)" for t in report["top"].get(g, [])))
                       + "</td></tr>" for g, n in zip(report["genres"], report["n_clips"]))
        parts.append(f"<h2>neurons: {_e(path.name)}, {_e(layer)}</h2>"
                     f'<p class="muted">active = above the unit\'s {100 * report["quantile"]:.0f}% quantile; '
                     f'timestep rule {_e(report["rule"])}</p>'
                     "<table><tr><th>genre</th><th>clips predicted</th><th>top neurons (active rate)</th></tr>"
                     f"{rows}</table>" + _image(heat, f"heatmap {layer}"))
    return "".join(parts)


def _read_results(folder: _Folder) -> dict[str, list[tuple[Path, dict]]]:
    """Every valid result file in the folder, by kind; a warning for each one skipped."""
    found: dict[str, list[tuple[Path, dict]]] = {kind: [] for kind in results.KINDS}
    others = []
    for path in sorted(folder.root.rglob("*.json")):
        if path.name.startswith("."):  # a writer's temporary file (or one a kill -9 left): never a result
            continue
        if folder.inside(path, "result file") is None:
            continue
        try:
            meta = results.read(path)
        except results.NotAResult:
            others.append(folder.rel(path))
            continue
        except AuralizeError as exc:
            _warn(f"{exc}; skipped")
            continue
        found[meta["kind"]].append((path, meta))
    if others:
        _warn(f"skipped {len(others)} JSON files that are not auralize result files (no 'kind'; results from before "
              f"auralize wrote one need rerunning): {', '.join(others[:5])}{', ...' if len(others) > 5 else ''}")
    return found


def write_gallery(results_dir: str | Path, out: str | Path | None = None, title: str = "auralize listening gallery",
                  neurons: list[Path] | None = None) -> Path:
    """Write one self-contained HTML page for the results in ``results_dir``.

    It shows, per genre, players for the dreams (``dream`` results written by ``auralize --genre``),
    their spectrograms, objectives, settings and round-trip probabilities, the genre's top
    neurons (from any ``neurons`` result found or given in ``neurons``), and every ``explanation``
    result. Files that are not valid results, incomplete sets and paths outside the folder are
    skipped with a warning.

    Returns
    -------
    Path
        The page (default ``results_dir/index.html``), written atomically.

    Raises
    ------
    AuralizeError
        If the folder is missing or holds nothing to show, or a file in ``neurons`` is not a
        neurons result.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise AuralizeError(f"results folder not found: {root}; give the folder 'auralize --genre' or "
                            "'auralize explain' wrote to")
    folder = _Folder(root)
    found = _read_results(folder)
    reports = [(folder, p, m) for p, m in found["neurons"]]
    for extra in neurons or []:
        extra = Path(extra)
        reports.append((_Folder(extra.parent), extra, results.read(extra, "neurons")))
    dreams: dict[str, list[str]] = {}
    for path, meta in found["dream"]:
        if meta.get("role") in ("control", "component-control") and _exists(
                path.parent / Path(str(meta.get("control_of", ""))).name):
            continue  # shown in its dream's card
        card = _dream_card(folder, path, meta)
        if card:
            dreams.setdefault(meta["genre"], []).append(card)
    explains = [c for c in (_explain_card(folder, p, m) for p, m in found["explanation"]) if c]
    if not (dreams or explains):
        raise AuralizeError(f"nothing to show in {root}: no dreams (auralize --genre G -o {root}/...) and no "
                            "explanations (auralize explain SONG --out ...) found")
    default = next(((p, m["reports"][m["default"]]) for _, p, m in reports if m.get("default") in m["reports"]), None)

    parts = [f"<h1>{_e(title)}</h1>",
             f'<p class="muted">{_e(root.resolve().name)}: {sum(map(len, dreams.values()))} dreams in '
             f"{len(dreams)} genres, {len(explains)} explanations</p>"]
    links = [f'<a href="#genre-{_e(quote(g))}">{_e(g)}</a>' for g in dreams]
    links += ['<a href="#explanations">explanations</a>'] if explains else []
    parts.append("<nav>" + " ".join(links) + "</nav>")
    examples = {}
    for path, meta in found["examples"]:
        for genre, entry in meta["genres"].items():
            examples.setdefault(genre, []).append(_examples_block(folder, path, meta, genre, entry))
    for genre, cards in dreams.items():
        parts.append(f'<h2 id="genre-{_e(quote(genre))}">{_e(genre)}</h2>')
        parts += examples.get(genre, [])
        if default is not None:
            path, report = default
            parts.append(f"<details><summary>top neurons of {_e(genre)} ({_e(report['layer'])}, "
                         f"{_e(path.name)})</summary>{_neuron_rows(report, genre)}</details>")
        parts += cards
    if explains:
        parts.append('<h2 id="explanations">explanations</h2>')
        parts += explains
    parts += [_neurons_section(f, p, m) for f, p, m in reports]
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(parts)
            + f'<pre id="selftest" hidden></pre><script>{SELFTEST}</script></body></html>\n')
    out = Path(out) if out else root / "index.html"
    return atomic_write_text(out, page)
