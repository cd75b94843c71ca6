"""Study 2: dreaming from a real clip versus from noise.

The same objective (a genre's top neuron plus its log-probability) is maximised twice: once
starting from noise, once starting from a real clip of that genre. Does the start matter for how
high the objective gets, for the round trip, and how far does the dream move from a real clip?

    python examples/02_dream_from_song_vs_noise.py [--data DIR | --synthetic] [--genres jazz,metal]
"""
import sys

import numpy as np
import torch

import auralize
from auralize import (HOP, N_FFT, SAMPLE_RATE, DreamSettings, genre_objective, load_report, pyplot, render, round_trip,
                      save_figure, save_wav, to_audio)

from _common import finish, options, setup


def main(argv=None):
    ap = options(__doc__, "02_dream_from_song_vs_noise")
    ap.add_argument("--genres", default="jazz,metal,classical,reggae")
    args = ap.parse_args(argv)
    model, data, note = setup(args)
    genres = [g for g in args.genres.split(",") if g in model.genres][: 2 if args.quick else None]
    steps = 20 if args.quick else 150
    report = load_report(model.path) or auralize.top_neurons(model, model.scaler.transform(data.psd))
    plt = pyplot()
    fig, axes = plt.subplots(len(genres), 3, figsize=(13, 3.2 * len(genres)), squeeze=False)
    rows = ["| genre | start | objective start -> end | round trip p | mean abs change of the input |",
            "|---|---|---|---|---|"]
    for i, genre in enumerate(genres):
        track = next(k for k, t in enumerate(data.tracks) if t.genre == genre)
        song = auralize.load_audio(data.tracks[track].path)[: 5 * SAMPLE_RATE + HOP]
        objective = genre_objective(model, genre, report=report)
        for j, (name, init) in enumerate((("noise", "noise"), ("real clip", song))):
            settings = DreamSettings(param="spectrogram", steps=steps, init=init, seed=args.seed)
            result = render(model, [objective], settings)
            start = torch.from_numpy(model.scaler.transform(auralize.spectrogram(song[:N_FFT + 22 * HOP])).astype(np.float32))
            moved = float((result.x[0, :22] - start[:22]).abs().mean()) if name == "real clip" else float("nan")
            audio = to_audio(result, seed=args.seed)[0]
            wav = save_wav(args.out / f"{genre}-from-{name.replace(' ', '-')}.wav", audio, SAMPLE_RATE)
            trip = round_trip(model, auralize.load_audio(wav), genre)
            psd = model.scaler.inverse(result.x[0].double()).numpy()
            axes[i, j].imshow(10 * np.log10(psd.T + 1e-12), origin="lower", aspect="auto", cmap="magma")
            axes[i, j].set_title(f"{genre} from {name}: p = {trip['p_target_mean']:.3f}", fontsize=8)
            axes[i, 2].plot(result.curve[:, 0], label=f"from {name}")
            rows.append(f"| {genre} | {name} | {result.curve[0, 0]:.2f} -> {result.curve[-1, 0]:.2f} | "
                        f"{trip['p_target_mean']:.3f} | {'-' if name == 'noise' else f'{moved:.2f}'} |")
        axes[i, 2].set_title("objective per step", fontsize=8)
        axes[i, 2].legend(fontsize=7)
    save_figure(args.out / "song_vs_noise.png", fig)
    return finish(args, "Dreaming from a real clip versus from noise", note,
                  [f"{steps} steps, spectrogram parameterisation, objective: the genre's top neuron + its "
                   "log-probability. The change is in model-input units (standard deviations per bin).", "",
                   *rows, "", "Figure: song_vs_noise.png; WAVs: <genre>-from-noise.wav, <genre>-from-real-clip.wav."])


if __name__ == "__main__":
    sys.exit(main() and 0)
