"""Study 4: silence one neuron and watch per-genre accuracy change.

The genre's top neuron is ablated (its output is 0 at every frame, also to its own recurrence,
see auralize.neurons.ablate); as a control, a random neuron of the same layer. If the top neuron
matters for its genre, that genre's accuracy should drop more than the others'.

    python examples/04_ablate_a_neuron.py [--data DIR | --synthetic] [--genre jazz] [--unit N]
"""
import sys

import numpy as np

import auralize
from auralize.io import save_figure
from auralize.neurons import ablate, load_report
from auralize.report import _pyplot

from _common import finish, options, setup


def per_genre(model, data, split):
    ev = auralize.evaluate(model, data, split, "test") if split else None
    if ev is None:  # synthetic data: all clips
        from auralize.data import Split

        ev = auralize.evaluate(model, data, Split("all", {"test": np.arange(len(data.psd))}, "all clips"), "test")
    return ev, np.array([ev.per_genre[g]["clip_accuracy"] for g in model.genres])


def main(argv=None):
    ap = options(__doc__, "04_ablate_a_neuron")
    ap.add_argument("--genre", default="jazz")
    ap.add_argument("--unit", type=int, default=None)
    args = ap.parse_args(argv)
    model, data, note = setup(args)
    report = load_report(model.path) or auralize.top_neurons(model, model.scaler.transform(data.psd))
    unit = args.unit if args.unit is not None else report.top_unit(args.genre)
    split = model.meta.get("split") if "SYNTHETIC" not in note else None
    base, acc = per_genre(model, data, split)
    control = int(np.random.default_rng(args.seed).choice([u for u in range(model.config.hidden) if u != unit]))
    results = {}
    for name, u in (("top", unit), ("control", control)):
        with ablate(model, report.layer, [u]):
            results[name] = per_genre(model, data, split)

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    width = 0.4
    pos = np.arange(len(model.genres))
    for k, (name, (_, a)) in enumerate(results.items()):
        ax.bar(pos + (k - 0.5) * width, a - acc, width, label=f"{name} neuron {unit if name == 'top' else control}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(pos, model.genres, rotation=45, ha="right")
    ax.set_ylabel("change of clip accuracy")
    ax.legend(fontsize=8)
    ax.set_title(f"ablating {report.layer}[{unit}] ({args.genre}'s top neuron) vs a random neuron", fontsize=9)
    save_figure(args.out / "ablation.png", fig)
    rows = ["| genre | clips | accuracy | top ablated | control ablated |", "|---|---|---|---|---|"]
    for i, g in enumerate(model.genres):
        if base.per_genre[g]["clips"]:
            rows.append(f"| {g} | {base.per_genre[g]['clips']} | {acc[i]:.3f} | {results['top'][1][i]:.3f} | "
                        f"{results['control'][1][i]:.3f} |")
    rows.append(f"| all | {base.n_clips} | {base.clip_accuracy:.3f} | {results['top'][0].clip_accuracy:.3f} | "
                f"{results['control'][0].clip_accuracy:.3f} |")
    return finish(args, f"Ablating {args.genre}'s top neuron", note,
                  [f"Layer {report.layer}: top neuron {unit}, control neuron {control}. Evaluated on "
                   f"{'the test part of the ' + split + ' split' if split else 'all clips'}.", "", *rows, "",
                   "Figure: ablation.png."])


if __name__ == "__main__":
    sys.exit(main() and 0)
