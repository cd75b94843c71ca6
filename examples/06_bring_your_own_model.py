"""Study 6: bring your own model. A small CNN on its own log-mel front end, then every tool on it.

The model below knows nothing of auralize: a 1-D CNN over a 48-band log-mel spectrogram (its own mel
filters, written here in torch). ``auralize.wrap`` makes it a model every tool reads: its states are
named by forward hooks, its front end is its own. The script trains it on the data for a few minutes
(TRAIN part of the track split, chosen on VALID), then runs on it what the toolkit runs on the paper's
LSTM: its top neurons, a dream of each genre judged by the held-out panel beside its prior-only
control (the same dream with the model switched off: how much of what the panel hears is the
model's), and an explanation of a real song.

    python examples/06_bring_your_own_model.py [--data DIR | --synthetic] [--epochs 12]

The file is also a model file: once trained, ``auralize --genre jazz --checkpoint
examples/06_bring_your_own_model.py:build`` dreams with it, and every command takes it the same way.
"""
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

import auralize

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the studies' shared set-up, also when loaded as a model file
from _common import REAL_DATA, finish, options, synth_gtzan  # noqa: E402

WEIGHTS = Path(__file__).resolve().parent / "out" / "06_bring_your_own_model" / "cnn.pt"
BANDS, N_FFT, HOP = 48, 512, 128


def mel_filters(sr: int, n_fft: int, bands: int) -> torch.Tensor:
    """Triangular filters evenly spaced on the mel scale, ``(bands, n_fft // 2 + 1)``."""
    mel = lambda f: 2595 * torch.log10(1 + torch.as_tensor(f) / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(torch.linspace(float(mel(30.0)), float(mel(sr / 2)), bands + 2))
    freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), min=0)


class LogMel(nn.Module):
    """Audio (batch, samples) -> log-mel (batch, 48, frames), each clip's level removed."""

    def __init__(self, sr: int = 4000) -> None:
        super().__init__()
        self.register_buffer("mel", mel_filters(sr, N_FFT, BANDS))
        self.register_buffer("window", torch.hann_window(N_FFT))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        power = torch.stft(audio, N_FFT, HOP, window=self.window, return_complex=True).abs() ** 2
        logmel = torch.log(self.mel @ power + 1e-6)
        return logmel - logmel.mean(dim=(1, 2), keepdim=True)


class BandCNN(nn.Module):
    """Three 1-D convolutions over time (mel bands as channels), mean and max over time, the genre layer."""

    def __init__(self, n_genres: int, width: int = 32) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(BANDS)
        self.conv = nn.Sequential(nn.Conv1d(BANDS, width, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                                  nn.Conv1d(width, width, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                                  nn.Conv1d(width, width, 5, padding=2), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(0.3), nn.Linear(2 * width, n_genres))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.norm(x))
        return self.out(torch.cat([h.mean(-1), h.amax(-1)], 1))


def build(genres=None, trained: bool = True):
    """The wrapped model (with its trained weights when there are some and ``trained``): what ``--checkpoint
    FILE:build`` calls."""
    saved = torch.load(WEIGHTS, weights_only=True) if trained and WEIGHTS.exists() else {}
    genres = list(genres or saved.get("genres") or auralize.GENRES)
    net = BandCNN(len(genres))
    if "state_dict" in saved:
        net.load_state_dict(saved["state_dict"])
    return auralize.wrap(net, features=LogMel(), genres=genres, name="band-cnn", states=["conv.1", "conv.4", "conv.7"])


def fresh(genres, seed: int):
    """The model training starts from: new weights drawn from ``seed``, never an earlier run's, so a rerun trains
    the same model."""
    torch.manual_seed(seed)
    return build(genres, trained=False)


def fit(model, clips, epochs: int, seed: int, log=print) -> dict:
    """Adam on random 4-s crops of the TRAIN clips; the epoch with the best VALID accuracy is kept."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = clips.part("train")
    x_valid, y_valid = clips.part("valid")
    with torch.no_grad():
        m_train = model.features(torch.from_numpy(x_train))
        m_valid = model.features(torch.from_numpy(x_valid))
    to_model = torch.tensor([model.genres.index(g) for g in clips.genres])
    yt, yv = to_model[torch.from_numpy(y_train)], to_model[torch.from_numpy(y_valid)]
    opt = torch.optim.Adam(model.net.parameters(), 1e-3, weight_decay=1e-4)
    best, state = -1.0, None
    for epoch in range(1, epochs + 1):
        model.net.train()
        for ids in torch.randperm(len(m_train), generator=gen).split(32):
            start = int(torch.randint(0, m_train.shape[-1] - 125 + 1, (1,), generator=gen))
            opt.zero_grad()
            nn.functional.cross_entropy(model.net(m_train[ids, :, start:start + 125]), yt[ids]).backward()
            opt.step()
        model.net.eval()
        with torch.no_grad():
            acc = float((model.net(m_valid).argmax(1) == yv).float().mean()) if len(yv) else 0.0
        log(f"epoch {epoch}: valid clip accuracy {acc:.3f}")
        if acc > best:
            best, state = acc, {k: v.detach().clone() for k, v in model.net.state_dict().items()}
    model.net.load_state_dict(state)
    return {"valid_accuracy": best}


def main(argv=None):
    ap = options(__doc__, "06_bring_your_own_model")
    ap.add_argument("--epochs", type=int, default=12)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.data is None and REAL_DATA.is_dir() and not args.synthetic:
        args.data = REAL_DATA
    synthetic = args.data is None or args.synthetic
    root = synth_gtzan(Path(__import__("tempfile").mkdtemp(prefix="auralize-synth-")), auralize.GENRES, args.seed,
                       tracks=3, seconds=10.0) if synthetic else args.data
    clips = auralize.load_clips(root)
    present = [g for g in clips.genres if (clips.label == clips.genres.index(g)).any()]
    note = (("SYNTHETIC audio (tones, beats and noise standing in for GTZAN; the figures say nothing about real "
             "music): " if synthetic else "real data: ") + clips.dataset.summary())
    model = fresh(present, args.seed)
    fitted = fit(model, clips, 1 if args.quick else args.epochs, args.seed, log=lambda m: print(m, file=sys.stderr))
    weights = WEIGHTS if args.out == WEIGHTS.parent else args.out / "cnn.pt"
    torch.save({"genres": list(model.genres), "state_dict": model.net.state_dict()}, weights)
    test = auralize.evaluate(model, clips, clips.split)
    x = auralize.data_inputs(model, clips)
    report = auralize.top_neurons(model, x, model.default_layer(), k=3)
    # The paper's objective needs a genre's top neuron: genres the model never predicts have none.
    dreamable = [g for g in present if report.top(g, 1)]
    target = auralize.Target() if dreamable else auralize.Target(objective="class")
    genres = (dreamable or present)[:2 if args.quick else None]
    settings = auralize.DreamSettings(steps=20 if args.quick else auralize.DreamSettings.steps, seed=args.seed,
                                      griffin_lim_iters=10 if args.quick else 100)
    dreams = auralize.make_audible(model, genres, args.out / "dreams", target=target, settings=settings, report=report,
                                   control=True)
    song = clips.audio[clips.split["test"]][:2].reshape(-1)
    explanation = auralize.explain(model, song, method="saliency")
    auralize.save_explanation(explanation, args.out / "explanation")
    figure(model, dreams, explanation, args.out / "byom.png")
    rows = ["| genre | top neuron | panel hears the dream | its control (prior alone) | the model's share |",
            "|---|---|---|---|---|"]
    for s in dreams:
        heard = lambda p: f"{p.get('majority') or 'split'} (p {p['p_target']:.3f})" if p else "-"  # noqa: E731
        unit = f"{report.layer}[{report.top_unit(s['genre'])}]" if dreamable else "(class objective)"
        rows.append(f"| {s['genre']} | {unit} | {heard(s.get('panel'))} | "
                    f"{heard(s['control'].get('panel'))} | {s.get('model_share', float('nan')):+.3f} |")
    shares = [s["model_share"] for s in dreams if "model_share" in s]
    return finish(args, "Bring your own model: a CNN on its own log-mel front end", note, [
        f"Trained for {1 if args.quick else args.epochs} epochs: best valid clip accuracy {fitted['valid_accuracy']:.3f}; "
        f"test clip / track accuracy {test.clip_accuracy:.3f} / {test.track_accuracy:.3f} ({test.n_tracks} tracks).",
        "", f"Its top neurons are in `{report.layer}`; every dream is judged by the held-out panel beside its "
        "prior-only control. What the dreams' genre comes from: " + dreams[0]["genre_from"] + ".", "", *rows, "",
        f"Mean model's share: {np.mean(shares):+.3f}." if shares else "",
        f"Explanation of two real test clips: verdict {explanation.verdict} (saliency over the song's fine STFT).",
        "", "Figure: byom.png; dreams and their controls in dreams/, the explanation in explanation/; "
        f"`auralize --checkpoint {Path(__file__).name}:build` uses the trained weights ({weights.name})."])


def figure(model, dreams, explanation, path):
    """The first dreams' fine spectrograms beside their controls', and the explanation's attributions."""
    from auralize import load_audio, pyplot, save_figure

    plt = pyplot()
    shown = dreams[:3]
    fig, axes = plt.subplots(len(shown) + 1, 2, figsize=(10, 2.3 * (len(shown) + 1)), squeeze=False)
    fine = lambda a: 20 * np.log10(np.abs(np.fft.rfft(np.lib.stride_tricks.sliding_window_view(  # noqa: E731
        a[:20000], 512)[::128] * np.hanning(512), axis=1)).T + 1e-6)
    for row, s in zip(axes, shown):
        for ax, (what, wav) in zip(row, (("dream", s["files"]["wav"]), ("control: prior alone", s["control"]["files"]["wav"]))):
            ax.imshow(fine(load_audio(wav)), origin="lower", aspect="auto", cmap="magma", extent=(0, 5, 0, 2000))
            panel = (s.get("panel") if what == "dream" else s["control"].get("panel")) or {}
            ax.set_title(f"{s['genre']} {what}: panel {panel.get('majority') or 'split'}", fontsize=8)
    axes[-1][0].imshow(10 * np.log10(explanation.psd.reshape(-1, explanation.psd.shape[-1]).T + 1e-12), origin="lower",
                       aspect="auto", cmap="magma")
    axes[-1][0].set_title("a real song (fine STFT)", fontsize=8)
    attr = explanation.attributions.reshape(-1, explanation.attributions.shape[-1]).T
    lim = np.quantile(np.abs(attr), 0.995) or 1.0
    axes[-1][1].imshow(attr, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[-1][1].set_title(f"what {model.name} listened to (saliency for {explanation.target_genre})", fontsize=8)
    save_figure(path, fig)


if __name__ == "__main__":
    sys.exit(main() and 0)
