"""Study 5: where a dream's genre comes from, the model or the prior.

Four dreams per genre from the same noise and seed, through the shipped dreaming model
(trained/cnn-mel-ensemble.json): the model's objective alone (`--prior-weight 0`); the default, which adds the
genre-blind music prior (a mixture of real music of every genre, fitted without labels); its control, the prior
alone (`--model-weight 0`); and the earlier default's genre prior (`--prior genre`: statistics of real
clips of the genre, exaggerated away from the other genres). Does the held-out panel hear the genre in
each? How do they look on a fine (512/128) grid, beside a real clip?

    python examples/05_what_the_prior_adds.py [--data DIR | --synthetic] [--checkpoint trained/lstm.pt]

With real data it uses the shipped priors (trained/music-mix-prior.npz and trained/genre-prior.npz, fitted
on GTZAN's training clips); with synthetic audio it fits both on that audio.
"""
import sys

import numpy as np

import auralize
from auralize import DreamSettings, Target, make_audible, pyplot, save_figure

from _common import finish, options, setup


def clips_of(data):
    """Every track's 5-s clips, and their genre indices."""
    audio, labels = [], []
    for track in data.tracks:
        clips = auralize.split_clips(auralize.load_audio(track.path))
        audio.append(clips)
        labels += [data.genres.index(track.genre)] * len(clips)
    return np.concatenate(audio), np.array(labels)


def fine_db(audio: np.ndarray) -> np.ndarray:
    """Log magnitude (dB) on the 512/128 grid the dreams are shaped on: (257 bins, frames)."""
    frames = np.lib.stride_tricks.sliding_window_view(audio, 512)[::128] * np.hanning(512)
    return 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)).T + 1e-6)


def main(argv=None):
    args = options(__doc__, "05_what_the_prior_adds", model=auralize.DREAMING_MODEL).parse_args(argv)
    model, data, note = setup(args)
    genres = [g for g in model.genres if g in data.genres][: 2 if args.quick else None]
    audio, labels = clips_of(data)
    if "SYNTHETIC" in note:
        music = auralize.fit_mixture_prior(audio).save(args.out / "synthetic-music-prior.npz")
        genre = auralize.fit_prior(audio, labels, data.genres).save(args.out / "synthetic-genre-prior.npz")
    else:
        music, genre = "music-mix", "genre"  # the shipped priors
    settings = DreamSettings(steps=20 if args.quick else DreamSettings.steps, seed=args.seed, griffin_lim_iters=10 if args.quick else 100)
    runs = {"model alone": Target(prior_weight=0.0), "with the music prior": Target(prior=music),
            "the prior alone": Target(prior=music, model_weight=0.0), "with the genre prior": Target(prior=genre)}
    summaries = {}
    for number, (name, target) in enumerate(runs.items(), 1):
        print(f"dreaming {len(genres)} genres, {name} ({number} of {len(runs)}, {settings.steps} steps each)...",
              file=sys.stderr, flush=True)
        summaries[name] = {s["genre"]: s for s in make_audible(model, genres, args.out / name.replace(" ", "-"),
                                                               target=target, settings=settings, progress=True)}

    plt = pyplot()
    fig, axes = plt.subplots(len(genres), len(runs) + 1, figsize=(14, 2.2 * len(genres)), squeeze=False, sharex=True,
                             sharey=True)
    rows = ["| genre | " + " | ".join(f"panel, {n}" for n in runs) + " | "
            + " | ".join(f"p(G), {n}" for n in runs) + " |", "|---" * (1 + 2 * len(runs)) + "|"]
    for row, genre in zip(axes, genres):
        real = audio[labels == data.genres.index(genre)][0]
        shown = [(n, auralize.load_audio(summaries[n][genre]["files"]["wav"])) for n in runs] + [("a real clip", real)]
        for ax, (name, clip) in zip(row, shown):
            ax.imshow(fine_db(clip[:20000]), origin="lower", aspect="auto", cmap="magma", extent=(0, 5, 0, 2000))
            ax.set_title(f"{genre}: {name}", fontsize=8)
        verdicts = [summaries[n][genre].get("panel") or {} for n in runs]
        rows.append(f"| {genre} | " + " | ".join(v.get("majority") or "split" for v in verdicts) + " | "
                    + " | ".join(f"{v['p_target']:.3f}" if v.get("p_target") is not None else "-" for v in verdicts)
                    + " |")
    for ax in axes[:, 0]:
        ax.set_ylabel("Hz", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=8)
    save_figure(args.out / "prior.png", fig)
    hits = {n: sum((summaries[n][g].get("panel") or {}).get("majority") == g for g in genres) for n in runs}
    return finish(args, "Where a dream's genre comes from", note,
                  [f"Dreaming model: {args.checkpoint}. panel: the held-out panel's majority verdict on the WAV as "
                   "written (split: no majority); p(G): its mean probability of the genre.", "", *rows, "",
                   "Heard as their genre: " + ", ".join(f"{n} {k} of {len(genres)}" for n, k in hits.items()) + ".", "",
                   "The prior alone is the same sound for every genre (the music prior knows no genre), so it can be "
                   "heard as the dream's genre for one genre at most; the genre prior brings the genre's texture "
                   "whatever the model asks for.", "",
                   "Figure: prior.png (512/128 log-magnitude of each dream beside a real clip); dreams in "
                   + ", ".join(f"{n.replace(' ', '-')}/" for n in runs) + "."])


if __name__ == "__main__":
    sys.exit(main() and 0)
