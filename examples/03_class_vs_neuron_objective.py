"""Study 3: the class objective versus the neuron objective.

Three dreams per genre: the genre's log-probability (class), its top neuron alone (the paper's
idea, class weight 0), and the top neuron plus the log-probability (auralize's default). Which
are recognised on the round trip, and how do their average spectra compare with the genre's real
average spectrum?

    python examples/03_class_vs_neuron_objective.py [--data DIR | --synthetic]
"""
import sys

import numpy as np

import auralize
from auralize import DreamSettings, Target, load_report, make_audible, pyplot, save_figure

from _common import finish, options, setup

OBJECTIVES = {"class": Target("class"), "neuron": Target("neuron", class_weight=0.0),
              "neuron+class": Target("neuron", class_weight=1.0)}


def main(argv=None):
    args = options(__doc__, "03_class_vs_neuron_objective").parse_args(argv)
    model, data, note = setup(args)
    report = load_report(model.path) or auralize.top_neurons(model, model.scaler.transform(data.psd))
    genres = [g for g in model.genres if report.n_clips[model.genres.index(g)]][: 2 if args.quick else None]
    steps = 20 if args.quick else 150
    spectra, trips = {}, {}
    settings = DreamSettings(steps=steps, seed=args.seed, griffin_lim_iters=30 if args.quick else 100)
    for number, (name, target) in enumerate(OBJECTIVES.items(), 1):
        print(f"dreaming {len(genres)} genres with the {name} objective ({number} of {len(OBJECTIVES)}, {steps} steps "
              "each)...", file=sys.stderr, flush=True)
        for s in make_audible(model, genres, args.out / name, target=target, settings=settings, report=report,
                              progress=True):
            trips[name, s["genre"]] = s["round_trip"]["p_target_mean"]
            spectra[name, s["genre"]] = np.log(np.load(s["files"]["spectrogram"]).mean(0) + 1e-10)
    real = {g: np.log(data.psd[data.label == data.genres.index(g)].mean((0, 1)) + 1e-10) for g in genres}

    plt = pyplot()
    fig, axes = plt.subplots(len(genres), 1, figsize=(9, 2.3 * len(genres)), squeeze=False, sharex=True)
    hz = np.linspace(0, 2000, 513)
    rows = ["| genre | " + " | ".join(f"p {n}" for n in OBJECTIVES) + " | " +
            " | ".join(f"corr {n}" for n in OBJECTIVES) + " |", "|---" * (1 + 2 * len(OBJECTIVES)) + "|"]
    for ax, g in zip(axes[:, 0], genres):
        ax.plot(hz, real[g], "k", lw=2, label="real average")
        corr = []
        for n in OBJECTIVES:
            ax.plot(hz, spectra[n, g], lw=1, label=n)
            corr.append(np.corrcoef(spectra[n, g], real[g])[0, 1])
        ax.set_ylabel(f"{g}\nlog PSD", fontsize=8)
        rows.append(f"| {g} | " + " | ".join(f"{trips[n, g]:.3f}" for n in OBJECTIVES) + " | " +
                    " | ".join(f"{c:+.2f}" for c in corr) + " |")
    axes[0, 0].legend(fontsize=7, ncol=4)
    axes[-1, 0].set_xlabel("frequency (Hz)")
    save_figure(args.out / "spectra.png", fig)
    return finish(args, "Class objective versus neuron objective", note,
                  ["p: round-trip probability of the genre (WAV read back and classified). corr: correlation of "
                   "the dream's average log spectrum with the genre's real average log spectrum.", "", *rows, "",
                   "Figure: spectra.png; dreams in class/, neuron/, neuron+class/."])


if __name__ == "__main__":
    sys.exit(main() and 0)
