"""Study 1: which neurons does each genre light up, and how selective are they?

For every genre, the neuron of the top layer most commonly active on the clips the model predicts
as that genre (auralize.top_neurons: active = above the unit's own 90th percentile over all
clips, activation = mean over the 22 frames). Then: how does each of those neurons respond to
clips of *every* genre? A selective neuron is high on its genre and low elsewhere.

    python examples/01_top_neurons.py [--data DIR | --synthetic] [--checkpoint trained/lstm.pt]
"""
import sys

import numpy as np

import auralize
from auralize import activations, pyplot, save_figure

from _common import finish, inputs, options, setup


def main(argv=None):
    args = options(__doc__, "01_top_neurons").parse_args(argv)
    model, data, note = setup(args)
    x = inputs(model, data)
    report = auralize.top_neurons(model, x, k=3)
    acts, pred = activations(model, x, report.layer, report.rule)
    genres = [g for g in model.genres if report.n_clips[model.genres.index(g)]]
    units = [report.top_unit(g) for g in genres]
    # Mean activation of each genre's top neuron over the clips predicted as each genre.
    table = np.array([[acts[pred == model.genres.index(h), u].mean() if (pred == model.genres.index(h)).any()
                       else np.nan for h in model.genres] for u in units])

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(units) + 2))
    im = ax.imshow(table, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(model.genres)), model.genres, rotation=45, ha="right")
    ax.set_yticks(range(len(units)), [f"{g}: {report.layer}[{u}]" for g, u in zip(genres, units)])
    ax.set_xlabel("clips predicted as")
    fig.colorbar(im, ax=ax, label=f"mean activation ({report.rule} over frames)")
    ax.set_title("each genre's top neuron, across all genres", fontsize=9)
    save_figure(args.out / "top_neurons_across_genres.png", fig)

    rows = ["| genre | top neuron | active rate | lift | mean on its genre | mean elsewhere | selectivity |",
            "|---|---|---|---|---|---|---|"]
    for g, u, row in zip(genres, units, table):
        own = row[model.genres.index(g)]
        rest = np.nanmean(np.delete(row, model.genres.index(g)))
        top = report.top(g, 1)[0]
        rows.append(f"| {g} | {u} | {top['active_rate']:.0%} | {top['lift']:.1f} | {own:+.3f} | {rest:+.3f} | "
                    f"{own - rest:+.3f} |")
    return finish(args, "Top neurons per genre and how they respond to every genre", note,
                  [f"Layer {report.layer}, timestep rule {report.rule}, active above the unit's 90% quantile.", "",
                   *rows, "", "Figure: top_neurons_across_genres.png (rows: a genre's top neuron; columns: clips "
                   "predicted as each genre)."])


if __name__ == "__main__":
    sys.exit(main() and 0)
