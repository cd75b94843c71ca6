"""Commands that look inside a model or a sound: ``neurons``, ``weights``, ``invert``, ``explain``."""
from __future__ import annotations

from pathlib import Path

import click

from ..cli_options import (CHECKPOINT, CHECKPOINT_HELP, DATA, DEVICE, FORCE, LABELS, QUIET, SEED, Finite, LazyChoice,
                           echo_warnings, load_data, out_option, rule_names)
from ..errors import AuralizeError
from ..settings import GATES


@click.command("neurons")
@CHECKPOINT
@DATA
@LABELS
@click.option("--layer", "layers", multiple=True,
              help="State to analyse (repeatable; default: the top layer and the first layer).")
@click.option("--rule", type=LazyChoice(rule_names), default="mean", show_default=True,
              help="Timestep rule: how a unit's activation over the 22 frames becomes one number.")
@click.option("--quantile", type=Finite(lo=0, hi=1, lo_open=True, hi_open=True), default=0.9, show_default=True,
              help="Active = above this quantile of the unit's own activations over all clips.")
@click.option("-k", "--top", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Neurons listed per genre.")
@click.option("--examples", type=click.IntRange(min=1), default=None,
              help="Also write, per genre, the K real clips (of K different tracks) that drive its top neuron and its "
                   "class most, and --bottom that drive them least: WAVs, figures and examples.json.")
@click.option("--bottom", type=click.IntRange(min=0), default=2, show_default=True,
              help="With --examples: how many least-driving clips per list.")
@out_option("Folder for the statistics, the heatmap PNG and the examples (default: beside the checkpoint, where "
            "dreams read the statistics).")
@DEVICE
@FORCE
@SEED
@QUIET
def neurons_cmd(checkpoint, data_dir, labels, layers, rule, quantile, k, examples, bottom, out, seed, device, force,
                quiet):
    """Per genre, the neurons most commonly active on the clips the model predicts as that genre.

    Saves <checkpoint>.neurons.json (read by 'auralize --genre' and 'auralize weights') and a
    genres x neurons heatmap PNG per layer, beside the checkpoint or, with -o, in that folder; with
    --examples, the real clips that drive each genre's top neuron and class most (a faithful view of
    what they respond to, whatever a dream does). What the repository ships is replaced only with --force.
    """
    from ..audiomodel import check_layer, default_layer, file_stem, origin
    from ..checkpoint import load_model
    from ..distributed import pick_device
    from ..evaluation import data_inputs
    from ..io import ensure_writable, protect_shipped
    from ..neurons import QUANTILE_METHOD, neurons_path, save_reports, top_neurons
    from ..plots import heatmap

    model = load_model(checkpoint)
    device = pick_device(device)
    layers = list(layers) or [n for n in dict.fromkeys([default_layer(model), getattr(model, "input_layer", None)])
                              if n]
    for layer in layers:
        check_layer(model, layer)  # before reading any data
    # Without -o the statistics go beside the checkpoint, where dreams read them; with -o, with the figures
    # into that folder (the ones beside it stay). Neither replaces what the repository ships without --force.
    stats = neurons_path(model, out)
    out = ensure_writable(out or origin(model).parent)  # before any work or any file
    png = {layer: out / f"{file_stem(model)}.neurons-{layer}.png" for layer in layers}
    protect_shipped([stats, *png.values()], force, elsewhere="write them into another folder (-o)")
    from ..exemplars import check_counts

    data = load_data(data_dir, quiet, model=model, audio=examples is not None,
                     check=None if examples is None else lambda d: check_counts(examples, bottom, d), labels=labels)
    x = data_inputs(model, data)
    if not hasattr(x, "shape"):  # a feature store's rows, streamed
        click.echo(f"streaming the clips from the feature store; quantiles: {QUANTILE_METHOD}", err=True)
    reports = [top_neurons(model.to(device), x, layer, rule, quantile, k) for layer in layers]
    path = save_reports(model, reports, stats)
    for r in reports:
        drawn = heatmap(r, png[r.layer])
        click.echo(f"layer {r.layer} (rule {r.rule}, active above the unit's {r.quantile:.0%} quantile):")
        for g, n in zip(r.genres, r.n_clips):
            top = r.top(g, k)
            listed = ", ".join(f"{t['unit']} ({t['active_rate']:.0%}, mean {t['mean_activation']:+.2f})" for t in top)
            click.echo(f"  {g:10s} {int(n):5d} clips: {listed or 'no clip predicted'}")
        click.echo(f"  heatmap: {drawn}")
    click.echo(f"saved {path}")
    if examples is not None:
        from ..exemplars import dataset_examples, save_examples

        found = dataset_examples(model, data, reports[0], examples, bottom)
        saved = save_examples(found, data, model, reports[0], out / f"{file_stem(model)}.examples")
        for entry in found:
            top = f"{entry.neuron_top[0].track} at {entry.neuron_top[0].start:g} s" if entry.neuron_top else "-"
            click.echo(f"  {entry.genre:10s} drives {reports[0].layer}[{entry.unit}] most: {top}; heard as "
                       f"{entry.genre} most: {entry.class_top[0].track} (p {entry.class_top[0].value:.3f})")
        click.echo(f"saved {saved}")

def _unit_list(ctx, param, value):
    if value is None:
        return None
    try:
        units = [int(u) for u in value.split(",") if u.strip()]
    except ValueError:
        units = []
    if not units or any(u < 0 for u in units):
        raise click.BadParameter(f"{value!r} is not a comma-separated list of unit numbers (e.g. 3,17)")
    return units

@click.command("weights")
@CHECKPOINT
@click.option("--neurons", "units", default=None, callback=_unit_list,
              help="Comma-separated first-layer units (default: each genre's top).")
@click.option("--gate", type=click.Choice((*GATES, "all")), default="g", show_default=True,
              help="LSTM gate whose weight rows to render (g: what the cell writes).")
@click.option("--seconds", type=Finite(lo=1, hi=600), default=3.0, show_default=True)
@click.option("--contrast", type=Finite(lo=0, lo_open=True), default=3.0, show_default=True,
              help="Strongest weight mapped to this many standard deviations from the average spectrum.")
@click.option("--iters", type=click.IntRange(1, 10000), default=100, show_default=True, help="Griffin-Lim iterations.")
@out_option("Folder for the WAVs, PSDs and weights.json.", default=Path("weights"))
@SEED
def weights_cmd(checkpoint, units, gate, seconds, contrast, iters, out, seed):
    """Render first-layer units' input-weight rows (513-bin spectral profiles) as sustained sounds."""
    from ..checkpoint import load_model
    from ..io import ensure_writable
    from ..neurons import load_report
    from ..weights import save_units, top_units

    from ..audiomodel import label

    model = load_model(checkpoint)
    if not hasattr(model, "weight_rows"):
        raise AuralizeError(f"the model {label(model)!r} gives no first-layer weight rows over the paper's 513 bins to "
                            "render (it reads its own front end); weights works with the paper's rnn, lstm, attention "
                            "and mlp")
    ensure_writable(out)
    owners: dict[int, list[str]] = {}
    if units is None:
        layer = model.weight_rows()[1]  # the state the rows feed (a model without them says so here)
        report = load_report(model, layer)
        if report is None:
            raise AuralizeError(f"no neuron statistics for {layer} beside {checkpoint}; run 'auralize "
                                "neurons CHECKPOINT --data DIR' first or give --neurons")
        units, owners = top_units(report)
    for row in save_units(model, units, out, gate, seconds, contrast, iters, seed, owners, checkpoint):
        top_of = f" (top of {', '.join(row['top_of'])})" if row["top_of"] else ""
        click.echo(f"unit {row['unit']} gate {row['gate']}{top_of}: {row['wav']}")
    click.echo(f"saved {out / 'weights.json'}")

@click.command("invert")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(), default=None,  # a str: "wavs/" keeps its slash (a folder)
              help="WAV path, or a folder (existing, or ending in /) to write <SPEC name>.wav into (default: SPEC "
                   "with .wav).")
@click.option("--iters", type=click.IntRange(0, 100_000), default=100, show_default=True,
              help="Griffin-Lim iterations.")
@SEED
def invert_cmd(spec, out, iters, seed):
    """Griffin-Lim: turn a saved spectrogram (.npy PSD, frames x 513) into a 4 kHz WAV."""
    from ..invert import invert_file

    done = invert_file(spec, out, n_iter=iters, seed=seed)
    click.echo(f"wrote {done['wav']} ({done['seconds']:.2f} s); spectral convergence on the analysis grid "
               f"{done['spectral_convergence']:.4f}")

def _method_choices():
    from ..attribution import method_choices

    return method_choices()

@click.command("explain")
@click.argument("song", type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None, help=f"The model (default the shipped trained/lstm.pt): {CHECKPOINT_HELP}.")
@click.option("--method", type=LazyChoice(_method_choices, case_sensitive=False), default="ig", show_default=True,
              help="Attribution method (ig: Integrated Gradients from silence).")
@click.option("--noise-tunnel", is_flag=True, help="Average attributions over noisy copies (SmoothGrad).")
@click.option("--target", default=None, help="Genre to explain (default: the song's verdict).")
@click.option("--steps", type=click.IntRange(1, 10_000), default=64, show_default=True,
              help="Integrated Gradients steps.")
@click.option("--max-seconds", type=Finite(lo=5), default=600, show_default=True,
              help="Explain only the first this many seconds of a long song (a warning says so).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the results (default: explain-<song name>/).")
@SEED
@QUIET
def explain_cmd(song, checkpoint, method, noise_tunnel, target, steps, max_seconds, out, seed, quiet):
    """Per-clip genre probabilities, attributions over the spectrogram, and what the model listened to."""
    from .. import attribution as ex
    from .. import default_checkpoint
    from ..checkpoint import load_model

    out = ex.check_folder(out or ex.default_folder(song))  # creates nothing: a failure leaves no folder
    model = load_model(checkpoint or default_checkpoint("lstm"))
    with echo_warnings():
        exp = ex.explain(model, song, method, target, noise_tunnel, steps, seed=seed, progress=not quiet,
                         name=str(song), max_seconds=max_seconds, log=lambda m: click.echo(m, err=True))
    files = ex.save_explanation(exp, out)
    for i, p in enumerate(exp.probabilities):
        top = int(p.argmax())
        click.echo(f"clip {i + 1:3d} ({i * 5:4d}-{i * 5 + 5:4d} s): {exp.genres[top]:10s} {p[top]:.3f}")
    click.echo(f"verdict: {exp.verdict}")
    click.echo(f"files: {out}/ [{', '.join(p.name for p in files.values())}]")
