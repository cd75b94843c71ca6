"""Study 4: silence a genre's top neurons and watch per-genre accuracy and confidence change.

The genre's ``--k`` most commonly active neurons are ablated (their output is 0 at every frame,
also to their own recurrence, see auralize.ablate); as a control, ``k`` random other
neurons of the same layer. If the top neurons matter for their genre, that genre's accuracy and
its mean probability on its own clips should drop more than the others' and more than under the
control. ``--k 1`` is the single top neuron.

    python examples/04_ablate_neurons.py [--data DIR | --synthetic] [--genre jazz] [--k 10] [--units 3,17]
"""
import sys

import numpy as np

import auralize
from auralize import ablate, load_report, pyplot, save_figure

from _common import finish, options, setup


def per_genre(model, data, split):
    """The evaluation, and per genre (clip accuracy, mean probability of the true genre)."""
    if split is None:  # synthetic data: all clips
        from auralize import Split

        split = Split("all", {"test": np.arange(len(data.psd))}, "all clips")
    ev = auralize.evaluate(model, data, split, "test")
    stats = np.array([[ev.per_genre[g]["clip_accuracy"], ev.per_genre[g]["mean_probability"]] for g in model.genres])
    return ev, stats


def main(argv=None):
    ap = options(__doc__, "04_ablate_neurons")
    ap.add_argument("--genre", default="jazz")
    ap.add_argument("--k", type=int, default=10, help="how many of the genre's top neurons to ablate")
    ap.add_argument("--units", default=None, help="comma-separated neurons to ablate instead of the top k")
    args = ap.parse_args(argv)
    model, data, note = setup(args)
    report = load_report(model.path) or auralize.top_neurons(model, model.scaler.transform(data.psd))
    if args.units:
        units = [int(u) for u in args.units.split(",")]
    else:
        units = [row["unit"] for row in report.top(args.genre, args.k)]
    others = [u for u in range(model.config.hidden) if u not in units]
    control = sorted(int(u) for u in np.random.default_rng(args.seed).choice(others, len(units), replace=False))
    split = model.meta.get("split") if "SYNTHETIC" not in note else None
    base, stats = per_genre(model, data, split)
    results = {}
    for name, chosen in (("top", units), ("control", control)):
        with ablate(model, report.layer, chosen):
            results[name] = per_genre(model, data, split)

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
    width = 0.4
    pos = np.arange(len(model.genres))
    for col, (ax, label) in enumerate(zip(axes, ("clip accuracy", "mean p(true genre)"))):
        for k, (name, (_, s)) in enumerate(results.items()):
            ax.bar(pos + (k - 0.5) * width, s[:, col] - stats[:, col], width,
                   label=f"{name} {len(units)} neuron{'s' if len(units) > 1 else ''}")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(pos, model.genres, rotation=45, ha="right")
        ax.set_ylabel(f"change of {label}")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"ablating {args.genre}'s top neurons of {report.layer} vs random neurons", fontsize=9)
    save_figure(args.out / "ablation.png", fig)
    rows = ["| genre | clips | accuracy | top ablated | control ablated | mean p | top ablated | control ablated |",
            "|---|---|---|---|---|---|---|---|"]
    top, ctl = results["top"][1], results["control"][1]
    for i, g in enumerate(model.genres):
        if base.per_genre[g]["clips"]:
            rows.append(f"| {g} | {base.per_genre[g]['clips']} | {stats[i, 0]:.3f} | {top[i, 0]:.3f} | "
                        f"{ctl[i, 0]:.3f} | {stats[i, 1]:.3f} | {top[i, 1]:.3f} | {ctl[i, 1]:.3f} |")
    rows.append(f"| all | {base.n_clips} | {base.clip_accuracy:.3f} | {results['top'][0].clip_accuracy:.3f} | "
                f"{results['control'][0].clip_accuracy:.3f} | | | |")
    where = "the test part of the " + split + " split" if split else "all clips"
    return finish(args, f"Ablating {args.genre}'s top neurons", note,
                  [f"Layer {report.layer}: ablated {units}; control {control}. Evaluated on {where}.", "",
                   *rows, "", "Figure: ablation.png."])


if __name__ == "__main__":
    sys.exit(main() and 0)
