"""Which dream recipe does the held-out listening panel hear as the genre? (issue 8, part 2)

For each candidate recipe and seed, dream all ten genres (5 s each, from noise), write every
dream as a 16-bit WAV, read it back from disk and let the panel judge it
(:func:`auralize.panel.judge`), beside the same-model round trip. Reference rows (real test clips,
the same clips through the paper-grid PSD and Griffin-Lim, white noise, noise with each genre's
mean spectrum) are measured the same way.

    python scripts/dream_study.py --data /work/shared/gtzan4k --seeds 0,1,2

Rules that keep it honest: every dream starts from noise and never sees a real clip of its
target genre (the statistics candidate matches the dreaming model's state statistics over the
genre's training clips, nothing else); no panel judge is a dreaming model or part of any
objective; the panel hears the WAV as written.

The candidate recipes are small pieces meant to become entries of the dream package
(``auralize.dream``): a parameterisation (:class:`FineMagnitude`), a transform
(:func:`waveform_transforms`), objectives (:func:`class_score`, :func:`state_statistics`).
Rows already in the JSON are kept, so an interrupted study resumes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's auralize, not an installed one

from auralize import features as F  # noqa: E402
from auralize.checkpoint import load_model  # noqa: E402
from auralize.data import make_split  # noqa: E402
from auralize.dream import class_logprob, genre_objective, render, round_trip, to_audio  # noqa: E402
from auralize.io import atomic_write_text, save_wav  # noqa: E402
from auralize.neurons import load_report, reduce_time  # noqa: E402

TRAINED = ROOT / "trained"
SECONDS = 5.0
FINE_FFT, FINE_HOP = 512, 128  # the fine grid: real clips through it and Griffin-Lim keep their genre
#: The recipe the study recommends as the default of ``auralize --genre G`` (what --cold times).
WINNER = "robust-fine-tr-fshift"


# --- parameterisation: a log-magnitude on the fine grid, phase by Griffin-Lim inside the loop ---

def _fine_window() -> torch.Tensor:
    return torch.hann_window(FINE_FFT, dtype=torch.float32)


def fine_stft(x: torch.Tensor) -> torch.Tensor:
    return torch.stft(x, FINE_FFT, FINE_HOP, window=_fine_window(), center=True, return_complex=True)


def fine_istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    return torch.istft(spec, FINE_FFT, FINE_HOP, window=_fine_window(), center=True, length=length)


class FineMagnitude(nn.Module):
    """Optimise a log-magnitude ``(batch, 257, frames)`` on a 512/128 STFT grid.

    The audio is the inverse STFT of that magnitude with the current phase; after every step
    the phase takes one Griffin-Lim update (no gradient), so the model always hears a signal
    close to the consistent one the dream will be written as. The model reads the audio
    through the paper's front end, so it still sees 22x513 PSDs, while the audio is shaped
    four times finer in time than those frames.
    """

    def __init__(self, start: torch.Tensor) -> None:
        super().__init__()
        batch, samples = start.shape
        spec = fine_stft(start)
        self.samples = samples
        self.logmag = nn.Parameter(torch.log(spec.abs() + 1e-5))
        self.phase = spec / spec.abs().clamp(min=1e-12)

    def audio(self) -> torch.Tensor:
        return fine_istft(torch.exp(self.logmag) * self.phase, self.samples)

    @torch.no_grad()
    def update_phase(self, iters: int = 1) -> None:
        for _ in range(iters):
            rebuilt = fine_stft(self.audio())
            self.phase = rebuilt / rebuilt.abs().clamp(min=1e-12)

    def penalty(self, tv_time: float, tv_freq: float) -> torch.Tensor:
        m = self.logmag
        return tv_time * (m[..., 1:] - m[..., :-1]).abs().mean((1, 2)) \
            + tv_freq * (m[:, 1:] - m[:, :-1]).abs().mean((1, 2))


def average_spectrum_noise(model: nn.Module, batch: int, samples: int, generator: torch.Generator) -> torch.Tensor:
    """Noise whose paper-grid PSD is the model's average training input (model input 0 in every bin).

    The average over all genres, stored in the checkpoint's scaler: a genre-agnostic start, the
    point today's L2 regulariser pulls towards.
    """
    spec = torch.fft.rfft(torch.randn(batch, samples, generator=generator, dtype=torch.float64))
    freqs = np.fft.rfftfreq(samples, 1 / F.SAMPLE_RATE)
    envelope = np.exp(np.interp(freqs, np.fft.rfftfreq(F.N_FFT, 1 / F.SAMPLE_RATE), model.scaler.mean) / 2)
    y = torch.fft.irfft(spec * torch.from_numpy(envelope), samples)
    x = model.scaler.transform(F.torch_spectrogram(y))
    level = torch.exp(-(x * torch.from_numpy(np.asarray(model.scaler.std, np.float64))).mean((1, 2)) / 2)
    return (y * level[:, None]).float()


# --- transforms: what must not undo the dream, drawn anew every step and averaged over copies ---

def frequency_shift(clips: torch.Tensor, hz: torch.Tensor) -> torch.Tensor:
    """Move every component of clips ``(n, samples)`` up by ``hz`` ``(n, 1)`` (single-sideband, via
    the analytic signal); negative values move down."""
    n = clips.shape[-1]
    h = torch.zeros(n)
    h[0] = 1
    h[1:(n + 1) // 2] = 2
    if n % 2 == 0:
        h[n // 2] = 1
    analytic = torch.fft.ifft(torch.fft.fft(clips) * h)
    t = torch.arange(n) / F.SAMPLE_RATE
    return (analytic * torch.exp(2j * torch.pi * hz * t)).real


def waveform_transforms(audio: torch.Tensor, copies: int, generator: torch.Generator, shift: bool = True,
                        gain_db: float = 6.0, snr_db: tuple[float, float] | None = (10.0, 30.0),
                        shift_hz: float = 0.0, shifted_share: float = 1.0) -> torch.Tensor:
    """``copies`` transformed 5-s clips of each signal ``(batch, samples)`` -> ``(batch * copies, 20000)``.

    A random sub-frame time shift (a crop at any of the first ``samples - 20000`` offsets, so
    the front end frames the audio differently), a gain within +-``gain_db`` and white noise at
    a random SNR within ``snr_db``; with ``shift_hz``, a frequency shift within +-``shift_hz`` of
    the first ``shifted_share`` of each signal's copies (the others keep their pitch).
    """
    b, n = audio.shape
    span = n - F.CLIP_SAMPLES
    starts = torch.randint(0, span + 1, (b * copies,), generator=generator) if shift and span > 0 \
        else torch.zeros(b * copies, dtype=torch.long)
    rows = audio.repeat_interleave(copies, 0)
    idx = starts[:, None] + torch.arange(F.CLIP_SAMPLES)[None]
    clips = torch.gather(rows, 1, idx)
    if shift_hz:
        hz = (torch.rand(b * copies, 1, generator=generator) * 2 - 1) * shift_hz
        hz = hz * (torch.arange(b * copies) % copies < round(shifted_share * copies)).view(-1, 1)
        clips = frequency_shift(clips, hz)
    if gain_db:
        clips = clips * 10 ** ((torch.rand(b * copies, 1, generator=generator) * 2 - 1) * gain_db / 20)
    if snr_db:
        snr = snr_db[0] + (snr_db[1] - snr_db[0]) * torch.rand(b * copies, 1, generator=generator)
        rms = clips.detach().pow(2).mean(1, keepdim=True).sqrt()
        clips = clips + rms * 10 ** (-snr / 20) * torch.randn(clips.shape, generator=generator)
    return clips


def input_masks(x: torch.Tensor, generator: torch.Generator, max_frames: int = 3, max_bins: int = 60) -> torch.Tensor:
    """One random time mask (up to ``max_frames``) and frequency mask (up to ``max_bins``) per input."""
    b, t, f = x.shape
    t0, tw = torch.randint(0, t, (b, 1, 1), generator=generator), torch.randint(0, max_frames + 1, (b, 1, 1), generator=generator)
    f0, fw = torch.randint(0, f, (b, 1, 1), generator=generator), torch.randint(0, max_bins + 1, (b, 1, 1), generator=generator)
    steps, bins = torch.arange(t).view(1, t, 1), torch.arange(f).view(1, 1, f)
    return x.masked_fill(((steps >= t0) & (steps < t0 + tw)) | ((bins >= f0) & (bins < f0 + fw)), 0.0)


# --- objectives over a batch of copies: (batch * copies, ...) -> per-dream score (batch,) ---

def class_score(logits: torch.Tensor, targets: torch.Tensor, copies: int) -> torch.Tensor:
    """Mean over copies of log p(target)."""
    lp = torch.log_softmax(logits, 1).gather(1, targets.repeat_interleave(copies)[:, None])[:, 0]
    return lp.view(-1, copies).mean(1)


def gram(h: torch.Tensor) -> torch.Tensor:
    """Gram matrix over time of states ``(n, T, H)`` -> ``(n, H, H)``."""
    return h.transpose(1, 2) @ h / h.shape[1]


def state_statistics(model: nn.Module, x: np.ndarray, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean state and mean Gram matrix over time of ``layer`` on model inputs ``x`` (n, 22, 513)."""
    with torch.no_grad():
        h = torch.cat([model.forward_with_states(torch.from_numpy(x[i:i + 256]))[1][layer]
                       for i in range(0, len(x), 256)])
    return h.mean((0, 1)), gram(h).mean(0)


def genre_statistics(model: nn.Module, data, layer: str = "layer2.h") -> dict:
    """Per genre, :func:`state_statistics` over the genre's TRAINING clips (track split, seed 0)."""
    ids = make_split(data, "track", seed=0)["train"]
    x = model.scaler.transform(data.psd[ids]).astype(np.float32)
    labels = data.label[ids]
    return {g: state_statistics(model, x[labels == i], layer) for i, g in enumerate(data.genres)}


def statistics_score(states: dict, layer: str, targets_mean: torch.Tensor, targets_gram: torch.Tensor,
                     copies: int) -> torch.Tensor:
    """Minus the relative squared distance of the copies' mean state and Gram matrix to the genre's."""
    h = states[layer]
    mean = h.mean(1).view(-1, copies, h.shape[-1]).mean(1)
    g = gram(h).view(-1, copies, h.shape[-1], h.shape[-1]).mean(1)
    d_mean = (mean - targets_mean).pow(2).sum(1) / targets_mean.pow(2).sum(1)
    d_gram = (g - targets_gram).pow(2).sum((1, 2)) / targets_gram.pow(2).sum((1, 2))
    return -(d_mean + d_gram)


# --- the fine-grid render loop ---

def render_fine(models: list[nn.Module], genres: list[str], *, seed: int, steps: int = 150, lr: float = 0.1,
                copies: int = 8, transforms: bool = True, tv_time: float = 0.02, tv_freq: float = 0.02,
                init: str = "silence", l2: float = 0.0, snr_db: tuple[float, float] = (10.0, 30.0),
                shift_hz: float = 0.0, shifted_share: float = 1.0, polish: int = 0,
                class_weight: float = 1.0, stats: dict | None = None, stats_weight: float = 0.0,
                layer: str = "layer2.h", final_iters: int = 100, neuron_report=None) -> np.ndarray:
    """Dream ``genres`` (one each, batched) on the fine grid through the mean of ``models``' scores.

    Returns audio ``(len(genres), 20000)``. ``stats``: per-genre (mean, Gram) targets of the
    first model's ``layer`` (the statistics objective, weighted ``stats_weight``).
    ``neuron_report``: add the first model's top neuron of each genre (the paper's objective).
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for m in models:
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)
    shift = F.HOP if transforms else 0
    samples = F.CLIP_SAMPLES + shift
    start = average_spectrum_noise(models[0], len(genres), samples, generator) if init == "average" \
        else 0.001 * torch.randn(len(genres), samples, generator=generator)  # near silence
    par = FineMagnitude(start)
    opt = torch.optim.Adam(par.parameters(), lr=lr)
    targets = torch.tensor([models[0].genres.index(g) for g in genres])
    if stats:
        s_mean = torch.stack([stats[g][0] for g in genres])
        s_gram = torch.stack([stats[g][1] for g in genres])
    k = copies if transforms else 1
    for step in range(steps):
        opt.zero_grad()
        audio = par.audio()
        hz = shift_hz if step < steps - polish else 0.0  # the last `polish` steps keep the pitch
        clips = waveform_transforms(audio, k, generator, snr_db=snr_db, shift_hz=hz,
                                                     shifted_share=shifted_share) if transforms else audio[:, :F.CLIP_SAMPLES]
        psd = F.torch_spectrogram(clips)
        score = 0.0
        for i, m in enumerate(models):
            x = m.scaler.transform(psd)
            lo, hi = m.scaler.bounds(x)
            pen = ((torch.relu(x - hi) + torch.relu(lo - x)).pow(2) + l2 * x.pow(2)).mean((1, 2)).view(-1, k).mean(1)
            xin = input_masks(x, generator) if transforms else x
            logits, states = m.forward_with_states(xin)
            s = class_weight * class_score(logits, targets, k) if class_weight else 0.0
            if stats and i == 0:
                s = s + stats_weight * statistics_score(states, layer, s_mean, s_gram, k)
            if neuron_report is not None and i == 0:
                acts = reduce_time(states[neuron_report.layer], neuron_report.rule)
                units = torch.tensor([neuron_report.top_unit(g) for g in genres]).repeat_interleave(k)
                s = s + acts.gather(1, units[:, None])[:, 0].view(-1, k).mean(1)
            score = score + (s - pen) / len(models)
        loss = (par.penalty(tv_time, tv_freq) - score).sum()
        loss.backward()
        opt.step()
        par.update_phase()
    par.update_phase(final_iters)
    with torch.no_grad():
        audio = par.audio()[:, :F.CLIP_SAMPLES]
    peak = audio.abs().amax(1, keepdim=True).clamp(min=1e-12)
    return (audio * torch.clamp(0.99 / peak, max=1.0)).numpy().astype(np.float32)


# --- candidates: name -> (description, dreaming models, function(genres, seed) -> audio) ---

def _spec_class(model, genres, seed, steps):
    objectives = [class_logprob(model.genres.index(g), g) for g in genres]
    result = render(model, objectives, param="spectrogram", seconds=SECONDS, steps=steps, seed=seed)
    return to_audio(result, model, SECONDS, seed=seed)


def _spec_neuron(model, genres, seed, steps, class_weight):
    report = load_report(model.path)
    objectives = [genre_objective(model, g, "neuron", report, class_weight=class_weight) for g in genres]
    result = render(model, objectives, param="spectrogram", seconds=SECONDS, steps=steps, seed=seed)
    return to_audio(result, model, SECONDS, seed=seed)


def candidates(args, data) -> dict:
    lstm = lambda: load_model(TRAINED / "lstm.pt")  # noqa: E731
    robust = lambda: load_model(args.robust)  # noqa: E731
    ensemble = lambda: [load_model(TRAINED / f"{k}.pt") for k in ("lstm", "attention", "rnn")] + [robust()]  # noqa: E731
    steps = args.steps

    stats_of = lambda model: genre_statistics(model, data)  # noqa: E731

    return {
        "today-default": ("shipped LSTM, neuron + class objective, paper-grid spectrogram, Griffin-Lim (today's "
                          "`auralize --genre G`)", lstm, lambda m, g, s: _spec_neuron(m, g, s, steps, 1.0)),
        "paper-neuron": ("shipped LSTM, the paper's pure neuron objective (--class-weight 0), paper grid",
                         lstm, lambda m, g, s: _spec_neuron(m, g, s, steps, 0.0)),
        "lstm-class-spec": ("shipped LSTM, class objective, paper-grid spectrogram", lstm,
                            lambda m, g, s: _spec_class(m, g, s, steps)),
        "robust-spec": ("(a) robust LSTM, class objective, paper-grid spectrogram, Griffin-Lim", robust,
                        lambda m, g, s: _spec_class(m, g, s, steps)),
        "robust-fine": ("(c) robust LSTM, class objective, 512/128 log-magnitude, Griffin-Lim in the loop",
                        robust, lambda m, g, s: render_fine([m], g, seed=s, steps=steps, transforms=False)),
        "robust-fine-tr": ("(b+c) robust LSTM, fine grid + transforms (sub-frame shift, gain, noise 10-30 dB, "
                           "masks; 8 copies)", robust, lambda m, g, s: render_fine([m], g, seed=s, steps=steps)),
        "lstm-fine-tr": ("shipped LSTM, fine grid + transforms", lstm,
                         lambda m, g, s: render_fine([m], g, seed=s, steps=steps)),
        "ensemble-fine-tr": ("(d) ensemble lstm+attention+rnn+robust (mean log p), fine grid + transforms "
                             "(4 copies)", ensemble, lambda ms, g, s: render_fine(ms, g, seed=s, steps=steps, copies=4)),
        "robust-fine-tr-fshift": ("robust-fine-tr plus a random frequency shift within +-10 Hz of every copy",
                                  robust, lambda m, g, s: render_fine([m], g, seed=s, steps=steps, shift_hz=10.0)),
        "robust-fine-tr-fshift20": ("robust-fine-tr plus a random frequency shift within +-20 Hz of every copy",
                                    robust, lambda m, g, s: render_fine([m], g, seed=s, steps=steps, shift_hz=20.0)),
        "robust-fine-tr-fshift-half": ("robust-fine-tr plus a random frequency shift within +-10 Hz on "
                                       "half of the copies", robust,
                                       lambda m, g, s: render_fine([m], g, seed=s, steps=steps, shift_hz=10.0,
                                                                   shifted_share=0.5)),
        "robust-fine-tr-fshift-polish": ("robust-fine-tr-fshift with its last 30 of 150 steps without the frequency "
                                         "shift", robust,
                                         lambda m, g, s: render_fine([m], g, seed=s, steps=steps, shift_hz=10.0,
                                                                     polish=30)),
        "robust-fine-tr-neuron": ("robust-fine-tr with the paper's pure neuron objective (the robust "
                                  "model's top layer-2 neuron per genre, no class term)", robust,
                                  lambda m, g, s: render_fine([m], g, seed=s, steps=steps, class_weight=0.0,
                                                              neuron_report=load_report(m.path))),
        "robust-fine-tr-average": ("robust LSTM, fine grid + transforms, started from noise with the average "
                                   "training spectrum (all genres) instead of near-silence", robust,
                                   lambda m, g, s: render_fine([m], g, seed=s, steps=steps, init="average")),
        "robust-stats": ("(e) robust LSTM, match layer-2 mean and Gram matrix of the genre's training clips, "
                         "no class term, fine grid + transforms", robust,
                         lambda m, g, s: render_fine([m], g, seed=s, steps=steps, class_weight=0.0,
                                                     stats=stats_of(m), stats_weight=1.0)),
        "robust-stats-class": ("(e) the same plus the class term", robust,
                               lambda m, g, s: render_fine([m], g, seed=s, steps=steps, stats=stats_of(m),
                                                           stats_weight=1.0)),
    }


# --- measuring: the panel's scoring (benchmarks/bench_panel.py), on WAVs read back from disk ---

def _bench_panel():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_panel

    return bench_panel


def written(items: list[tuple[str, np.ndarray]], folder: Path) -> list[tuple[str, np.ndarray]]:
    """Write each item as a 16-bit WAV and return what reading it back gives."""
    folder.mkdir(parents=True, exist_ok=True)
    return [(g, F.load_audio(save_wav(folder / f"{i:02d}-{g}.wav", a, F.SAMPLE_RATE))) for i, (g, a) in enumerate(items)]


def measure(name: str, items: list[tuple[str, np.ndarray]], folder: Path, models: list[nn.Module] | None,
            ref) -> dict:
    """The panel's figures for one row (as bench_panel scores it), plus the same-model round trip."""
    from auralize.panel.scoring import score_row

    back = written(items, folder)
    row = score_row(name, back, ref)
    if models:
        trips = np.array([[round_trip(m, a, g)["p_target_mean"] for m in models] for g, a in back]).mean(1)
        row.update(round_trip_mean=float(trips.mean()), round_trip_min=float(trips.min()),
                   round_trip_hits=int(np.sum(trips >= 0.5)), round_trip=[round(float(t), 4) for t in trips])
    return row


def table(results: dict) -> str:
    """Markdown table of every row: the panel's columns, then the round trip and the dreaming time."""
    from auralize.panel.scoring import rows_table

    keys = list(results)
    lines = rows_table([results[k] for k in keys]).splitlines()
    lines[0] += " round trip p (mean / min) | seconds |"
    lines[1] += "---|---|"
    for i, k in enumerate(keys):
        r = results[k]
        trip = f"{r['round_trip_mean']:.3f} / {r['round_trip_min']:.3f}" if "round_trip_mean" in r else "-"
        secs = f"{r['seconds']:.0f}" if "seconds" in r else "-"
        lines[i + 2] += f" {trip} | {secs} |"
    return "\n".join(lines)


def summary_table(results: dict) -> str:
    """Per candidate over its seeds: panel hits per seed, mean panel p(G), judges' hits, round trip."""
    by_name: dict[str, list[dict]] = {}
    for r in results.values():
        if "candidate" in r:
            by_name.setdefault(r["candidate"], []).append(r)
    judges = list(next(iter(results.values()))["judge_hits"])
    lines = ["| candidate | seeds | panel hits per seed (of 10) | worst seed | mean panel p(G) | "
             + " | ".join(f"{j} hits (sum)" for j in judges) + " | round trip p (mean / min) | seconds (10 genres) |",
             "|" + "---|" * (8 + len(judges) - 1)]
    order = sorted(by_name, key=lambda n: (-np.mean([r["panel_hits"] for r in by_name[n]]),
                                           -np.mean([r["mean_p_target"] for r in by_name[n]])))
    for name, r in results.items():
        if "candidate" not in r:  # a reference row: 3 clips per genre, so hits are of 30
            lines.append(f"| *{name}* | - | {r['panel_hits']}/{r['n_items']} ({r['genres_hit']:.1f} genres of 10) | - | "
                         f"{r['mean_p_target']:.3f} | " + " | ".join(f"{r['judge_hits'][j]}/{r['n_items']}" for j in judges)
                         + " | - | - |")
    for name in order:
        rows = sorted(by_name[name], key=lambda r: r["seed"])
        n = sum(r["n_items"] for r in rows)
        lines.append(
            f"| {name} | {','.join(str(r['seed']) for r in rows)} | {' / '.join(str(r['panel_hits']) for r in rows)} | "
            f"{min(r['panel_hits'] for r in rows)} | {np.mean([r['mean_p_target'] for r in rows]):.3f} | "
            + " | ".join(f"{sum(r['judge_hits'][j] for r in rows)}/{n}" for j in judges)
            + f" | {np.mean([r['round_trip_mean'] for r in rows]):.3f} / {min(r['round_trip_min'] for r in rows):.3f}"
            f" | {np.mean([r['seconds'] for r in rows]):.0f} |")
    return "\n".join(lines)


def genre_table(results: dict, candidates: list[str]) -> str:
    """Per genre, the seeds on which the panel's majority heard it, for each of ``candidates``."""
    from auralize.data import GENRES

    lines = ["| candidate | " + " | ".join(GENRES) + " |", "|---|" + "---|" * len(GENRES)]
    for name in candidates:
        rows = sorted((r for r in results.values() if r.get("candidate") == name), key=lambda r: r["seed"])
        hits = {g: 0 for g in GENRES}
        for r in rows:
            for item in r["items"]:
                hits[item["target"]] += item["majority"] == item["target"]
        lines.append(f"| {name} | " + " | ".join(f"{hits[g]}/{len(rows)}" for g in GENRES) + " |")
    return "\n".join(lines)


def write_markdown(path: Path, results: dict, commands: list[str], descriptions: dict) -> Path:
    """docs/results/dream-study.md: the summary per candidate, every row, and what each candidate is."""
    refs = "\n".join(f"- `{n}`: {d}" for n, d in descriptions.items())
    text = f"""# Dream study: which recipe does the held-out panel hear as the genre? (issue 8, part 2)

Written by `scripts/dream_study.py` (rows kept across runs; commands, in order):

{chr(10).join(f"    {c}" for c in commands)}

Each candidate dreams all ten genres (5 s each, from near-silence or noise, never from a real
clip) per seed; each dream is written as a 16-bit WAV, read back from disk and scored by the
panel exactly as `benchmarks/bench_panel.py` scores its rows (`auralize.panel.scoring.score_row`):
judges `features`, `cnn`, `lstm-seed1` (trained/panel/), majority = 2 of 3. No judge is a
dreaming model or part of any objective. The round trip is the dreaming model's own p(G) on the
WAV read back (for the ensemble, the mean over its members). Reference rows use 3 real TEST
clips per genre of the shipped checkpoints' split (30 items), measured the same way.

The study's recommended default for `auralize --genre G`: `{WINNER}` ({descriptions.get(WINNER, "")}).

## Summary per candidate (sorted by mean panel hits)

{summary_table(results)}

Reference rows (in italics) hold 3 real clips per genre, so their hits are of 30.

## Per genre: seeds on which the panel's majority heard the genre

{genre_table(results, [n for n in (WINNER, "robust-fine-tr", "robust-spec", "robust-fine", "today-default")
                       if any(r.get("candidate") == n for r in results.values())])}

## Every row (reference rows first)

{table(results)}

## Candidates

{refs}
"""
    return atomic_write_text(path, text)


def robust_table(paths: list[Path], data, eps_list=(0.0, 0.05, 0.1)) -> str:
    """Test-clip accuracy of checkpoints, clean and under L2 PGD (5 steps) of each RMS radius."""
    from auralize.robust import robust_accuracy

    ids = make_split(data, "track", seed=0)["test"]
    y = torch.from_numpy(data.label[ids])
    lines = ["| checkpoint | " + " | ".join(f"PGD eps {e:g}" if e else "clean" for e in eps_list) + " |",
             "|---|" + "---|" * len(eps_list)]
    for path in paths:
        model = load_model(path)
        x = torch.from_numpy(model.scaler.transform(data.psd[ids]).astype(np.float32))
        lines.append(f"| {Path(path).name} | "
                     + " | ".join(f"{robust_accuracy(model, x, y, e):.3f}" for e in eps_list) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="folder of genre folders (GTZAN at 4 kHz)")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--candidates", default="all", help="comma-separated names, or all")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--robust", type=Path, default=TRAINED / "lstm-robust.pt")
    ap.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    ap.add_argument("--json", type=Path, default=ROOT / "docs/results/dream-study.json")
    ap.add_argument("--wavs", type=Path, default=ROOT / "runs/dream-study", help="where the WAVs go (not the repo)")
    ap.add_argument("--redo", action="store_true", help="measure rows again that the JSON already holds")
    ap.add_argument("--robust-accuracy", type=Path, nargs="+", default=None, metavar="CKPT",
                    help="only print these checkpoints' test-clip accuracy, clean and under L2 PGD")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the Markdown from the JSON")
    ap.add_argument("--cold", metavar="GENRE", default=None,
                    help="only dream GENRE with the winning recipe (WINNER) and time it, as "
                         "'auralize --genre GENRE' would run it")
    args = ap.parse_args()
    if args.cold:
        started = time.time()
        _, load, dream = candidates(args, None)[WINNER]
        model = load()
        audio = dream(model, [args.cold], 0)
        args.wavs.mkdir(parents=True, exist_ok=True)
        wav = save_wav(args.wavs / f"cold-{args.cold}.wav", audio[0], F.SAMPLE_RATE)
        trip = round_trip(model, F.load_audio(wav), args.cold)["p_target_mean"]
        print(f"{wav}: round trip p({args.cold}) {trip:.3f}; {time.time() - started:.1f} s after imports")
        return
    if args.report_only:
        saved = json.loads(args.json.read_text())
        print(write_markdown(args.json.with_suffix(".md"), saved["rows"], saved["commands"],
                             {n: d for n, (d, _, _) in candidates(args, None).items()}))
        return
    if args.data is None:
        ap.error("--data is required")
    if args.robust_accuracy:
        from auralize.data import load_dataset

        print(robust_table(args.robust_accuracy, load_dataset(args.data, progress=False)))
        return
    bench = _bench_panel()
    from auralize.panel.data import load_clips
    from auralize.panel.scoring import build_reference

    clips = load_clips(args.data)
    data = clips.dataset
    ref = build_reference(clips)
    saved = json.loads(args.json.read_text()) if args.json.is_file() else {}
    results = saved.get("rows", {})
    commands = saved.get("commands", [])
    command = "python scripts/dream_study.py " + " ".join(sys.argv[1:])
    if command not in commands:
        commands.append(command)

    def save():
        atomic_write_text(args.json, json.dumps({"commands": commands, "rows": results}, indent=1))

    if args.per_genre:
        for name, items in bench.reference_rows(clips, args.per_genre).items():
            if name in results and not args.redo:
                continue
            results[name] = measure(name, items, args.wavs / "references" / f"{len(results):02d}", None, ref)
            save()
            print(f"{name}: {results[name]['panel_hits']}/{results[name]['n_items']}", flush=True)
    known = candidates(args, data)
    names = list(known) if args.candidates == "all" else [c.strip() for c in args.candidates.split(",")]
    # Another robust checkpoint makes rows of their own: "robust-fine-tr[lstm-pgd0.1-ft] (seed 0)".
    suffix = "" if args.robust == TRAINED / "lstm-robust.pt" else f"[{args.robust.stem}]"
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in names:
            key = f"{name}{suffix} (seed {seed})"
            if key in results and not args.redo:
                continue
            description, load, dream = known[name]
            models = load()
            started = time.time()
            audio = dream(models, list(data.genres), seed)
            seconds = time.time() - started
            members = models if isinstance(models, list) else [models]
            row = measure(key, list(zip(data.genres, audio)), args.wavs / f"{name}-seed{seed}", members, ref)
            results[key] = {"candidate": name + suffix, "seed": seed, "description": description, "seconds": seconds, **row}
            save()
            print(f"{key}: panel {row['panel_hits']}/10, p {row['mean_p_target']:.3f}, judges {row['judge_hits']}, "
                  f"round trip {row['round_trip_mean']:.3f} (min {row['round_trip_min']:.3f}), {seconds:.0f} s",
                  flush=True)
    write_markdown(args.json.with_suffix(".md"), results, commands, {n: d for n, (d, _, _) in known.items()})
    print(summary_table(results))
    print(table(results))


if __name__ == "__main__":
    main()
