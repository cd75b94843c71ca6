"""A listening gallery: one self-contained HTML page for the dreams and explanations in a folder.

Everything is inline (CSS, the small self-test script, images and audio as base64 data URIs), so
the page works offline, can be mailed around, and makes no network request.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .errors import AuralizeError
from .io import atomic_write_text

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


def _data_uri(path: Path, mime: str) -> str | None:
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _audio(path: Path | None, label: str) -> str:
    uri = _data_uri(path, "audio/wav") if path is not None else None
    if uri is None:
        return f'<p class="muted">no audio for {html.escape(label)}</p>'
    return f'<audio controls preload="metadata" title="{html.escape(label)}" src="{uri}"></audio>'


def _image(path: Path | None, alt: str) -> str:
    uri = _data_uri(path, "image/png") if path is not None else None
    return f'<img alt="{html.escape(alt)}" src="{uri}">' if uri else ""


def _first(*paths: Path) -> Path | None:
    return next((p for p in paths if p.is_file() and p.stat().st_size > 0), None)


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _prob(p: float) -> str:
    cls = "good" if p >= 0.9 else ("bad" if p < 0.5 else "")
    return f'<span class="{cls}">{p:.3f}</span>'


def _dream_card(root: Path, path: Path, meta: dict) -> str:
    stem = path.with_suffix("")
    settings = meta.get("settings", {})
    trip = meta.get("round_trip", {})
    facts = ", ".join(f"{k} {html.escape(str(settings[k]))}" for k in ("param", "seconds", "steps", "seed")
                      if k in settings)
    rel = html.escape(str(path.relative_to(root)))
    return (
        '<div class="card"><div class="row"><div>'
        f"<h3>{rel}</h3>"
        + _audio(_first(stem.with_name(stem.name + "-22050.wav"), stem.with_suffix(".wav")), rel)
        + f'<p>round trip p({html.escape(str(meta.get("genre")))}) = {_prob(float(trip.get("p_target_mean", 0)))}'
        f' (lowest clip {float(trip.get("p_target_min", 0)):.3f}), heard as '
        f'<b>{html.escape(str(trip.get("verdict", "?")))}</b></p>'
        f'<p class="muted">objective: {html.escape(str(meta.get("objective", "")))}<br>{facts}<br>'
        f'model: {html.escape(str(meta.get("model", "")))} ({html.escape(str(meta.get("checkpoint", "")))})</p>'
        f'<p><a href="{rel}">{rel}</a></p>'
        f"<details><summary>JSON</summary><pre>{html.escape(json.dumps(meta, indent=1))}</pre></details>"
        "</div><div>" + _image(stem.with_suffix(".png"), f"spectrogram of {rel}") + "</div></div></div>")


def _neuron_rows(report: dict, genre: str) -> str:
    top = report.get("top", {}).get(genre, [])
    if not top:
        return '<p class="muted">the model predicted no clip as this genre</p>'
    rows = "".join(f"<tr><td>{t['unit']}</td><td>{100 * t['active_rate']:.0f}%</td>"
                   f"<td>{t['mean_activation']:+.3f}</td><td>{t['lift']:.2f}</td></tr>" for t in top)
    return ("<table><tr><th>neuron</th><th>active rate</th><th>mean activation</th><th>lift</th></tr>"
            f"{rows}</table>")


def _explain_card(root: Path, path: Path, meta: dict) -> str:
    folder = path.parent
    files = meta.get("files", {}) or {}
    genres = meta.get("genres", [])
    rows = []
    for i, probs in enumerate(meta.get("clip_probabilities", [])):
        if genres and probs:
            best = max(range(len(probs)), key=probs.__getitem__)
            rows.append(f"<tr><td>{i + 1}</td><td>{5 * i}-{5 * i + 5} s</td><td>{html.escape(genres[best])}</td>"
                        f"<td>{probs[best]:.3f}</td></tr>")
    table = ("<table><tr><th>clip</th><th>time</th><th>genre</th><th>p</th></tr>" + "".join(rows) + "</table>"
             if rows else "")
    wav = _first(*(folder / files[k] for k in ("wav_22050", "wav") if files.get(k)))
    images = "".join(_image(folder / files[k], k) for k in ("png", "attention_png") if files.get(k))
    rel = html.escape(str(path.relative_to(root)))
    return (
        '<div class="card">'
        f"<h3>{html.escape(Path(str(meta.get('song', folder.name))).name)}: verdict "
        f"<b>{html.escape(str(meta.get('verdict', '?')))}</b></h3>"
        f'<p class="muted">{html.escape(str(meta.get("method", "")))}; model {html.escape(str(meta.get("checkpoint", "")))}'
        f'; <a href="{rel}">{rel}</a></p>'
        '<div class="row"><div><p>What the model listened to (the song masked by the positive attributions):</p>'
        + _audio(wav, f"listened {rel}") + table + "</div><div>" + images + "</div></div></div>")


def write_gallery(results_dir: str | Path, out: str | Path | None = None, title: str = "auralize listening gallery",
                  neurons: list[Path] | None = None) -> Path:
    """Write one self-contained HTML page for the results in ``results_dir``.

    It shows, per genre, players for the dreams (``<stem>.json`` written by ``auralize --genre``),
    their spectrograms, objectives, settings and round-trip probabilities, the genre's top
    neurons (from any ``*.neurons.json`` found or given in ``neurons``), and every ``explain``
    result (folders with ``explain.json``).

    Returns
    -------
    Path
        The page (default ``results_dir/index.html``), written atomically.

    Raises
    ------
    AuralizeError
        If the folder is missing or holds nothing to show.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise AuralizeError(f"results folder not found: {root}; give the folder 'auralize --genre' or "
                            "'auralize explain' wrote to")
    dreams: dict[str, list[tuple[Path, dict]]] = {}
    explains: list[tuple[Path, dict]] = []
    reports: list[tuple[Path, dict]] = []
    for path in sorted(root.rglob("*.json")):
        meta = _json(path)
        if meta is None:
            continue
        if path.name.endswith(".neurons.json") and "reports" in meta:
            reports.append((path, meta))
        elif path.name == "explain.json" and "clip_probabilities" in meta:
            explains.append((path, meta))
        elif "genre" in meta and "round_trip" in meta:
            dreams.setdefault(str(meta["genre"]), []).append((path, meta))
    for extra in neurons or []:
        meta = _json(Path(extra))
        if meta is None or "reports" not in meta:
            raise AuralizeError(f"{extra} is not a neurons JSON written by 'auralize neurons'")
        reports.append((Path(extra), meta))
    if not (dreams or explains):
        raise AuralizeError(f"nothing to show in {root}: no dreams (auralize --genre G -o {root}/...) and no "
                            "explanations (auralize explain SONG --out ...) found")
    default = next(((p, m["reports"][m.get("default")]) for p, m in reports if m.get("default") in m["reports"]), None)

    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="muted">{html.escape(root.resolve().name)}: {sum(map(len, dreams.values()))} dreams in '
             f"{len(dreams)} genres, {len(explains)} explanations</p>"]
    if dreams or explains:
        links = [f'<a href="#genre-{html.escape(g)}">{html.escape(g)}</a>' for g in dreams]
        links += ['<a href="#explanations">explanations</a>'] if explains else []
        parts.append("<nav>" + " ".join(links) + "</nav>")
    for genre, items in dreams.items():
        parts.append(f'<h2 id="genre-{html.escape(genre)}">{html.escape(genre)}</h2>')
        if default is not None:
            path, report = default
            parts.append(f"<details><summary>top neurons of {html.escape(genre)} ({html.escape(report['layer'])}, "
                         f"{html.escape(path.name)})</summary>{_neuron_rows(report, genre)}</details>")
        parts += [_dream_card(root, p, m) for p, m in items]
    if explains:
        parts.append('<h2 id="explanations">explanations</h2>')
        parts += [_explain_card(root, p, m) for p, m in explains]
    for path, meta in reports:
        for layer, report in meta["reports"].items():
            heat = path.with_name(path.name.replace(".neurons.json", f".neurons-{layer}.png"))
            rows = "".join(f"<tr><td>{html.escape(g)}</td><td>{int(n)}</td><td>"
                           + ", ".join(f"{t['unit']} ({100 * t['active_rate']:.0f}%)" for t in report["top"].get(g, []))
                           + "</td></tr>" for g, n in zip(report["genres"], report["n_clips"]))
            parts.append(f"<h2>neurons: {html.escape(path.name)}, {html.escape(layer)}</h2>"
                         f'<p class="muted">active = above the unit\'s {100 * report["quantile"]:.0f}% quantile; '
                         f'timestep rule {html.escape(report["rule"])}</p>'
                         "<table><tr><th>genre</th><th>clips predicted</th><th>top neurons (active rate)</th></tr>"
                         f"{rows}</table>" + _image(heat, f"heatmap {layer}"))
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(parts)
            + f'<pre id="selftest" hidden></pre><script>{SELFTEST}</script></body></html>\n')
    out = Path(out) if out else root / "index.html"
    return atomic_write_text(out, page)
