"""Write trained/<name>.md for every shipped checkpoint, from the checkpoint and a fresh evaluation.

    python scripts/make_model_cards.py --data ../shared/gtzan4k

Every figure in a card is printed by 'auralize evaluate trained/<name>.pt --data DATA --split track'
(the checkpoint's own held-out test part) and, for comparison, on the filtered split's test part.
"""
import argparse
from pathlib import Path

from auralize import load_dataset, load_model
from auralize.evaluation import evaluate
from auralize.io import atomic_write_text

TRAINED = Path(__file__).resolve().parents[1] / "trained"
NAMES = {"lstm": "LSTM 2x250", "rnn": "Vanilla RNN 2x125", "attention": "LSTM with soft attention 2x60"}


def card(name: str, data, data_arg: str) -> str:
    model = load_model(TRAINED / f"{name}.pt")
    meta, cfg = model.meta, model.config
    ev = evaluate(model, data, meta["split"], "test")
    neurons = TRAINED / f"{name}.neurons.json"
    size_mb = (TRAINED / f"{name}.pt").stat().st_size / 1e6
    tracks = ", ".join(f"{g} {n}" for g, n in meta["train_tracks"].items())
    lines = [
        f"# {NAMES[name]} (`trained/{name}.pt`)", "",
        f"The paper's {NAMES[name]} ({cfg.layers} layers x {cfg.hidden} units, "
        f"variant `{cfg.variant}`), trained by auralize on GTZAN at 4 kHz. {size_mb:.1f} MB; loads with "
        "`auralize.load_model` (`torch.load(..., weights_only=True)` safe) and needs no data set.", "",
        "## Made by", "", "```", meta.get("command", "?"), "```", "",
        f"Seed {meta['seed']}; {meta['settings']['optimizer']} (lr {meta['settings']['lr']}), batch "
        f"{meta['settings']['batch_size']}, up to {meta['settings']['epochs']} epochs, early stopping after "
        f"{meta['settings']['patience']} without validation gain, augmentation "
        f"{'on' if meta['settings'].get('augment') else 'off'}; best epoch {meta['best_epoch']} "
        f"(validation clip accuracy {meta['best_valid_acc']:.3f}).", "",
        "## Data and split", "",
        f"`../shared/gtzan4k`, a partial copy of GTZAN: {meta['data_summary']}.", "",
        f"Split: **{meta['coverage']}**. The fault-filtered artist-disjoint split is nearly empty for six genres "
        "in this copy (one disco track to train on), and a model meant for listening needs every genre in "
        "training, so the shipped models use the song-level split stratified by genre over all present "
        "tracks (no song on two sides; artists can repeat across sides, as GTZAN repeats artists within a genre).",
        "", f"Training tracks per genre: {tracks}.", "",
        "## Front end", "",
        "Mono 4000 Hz, 5-s clips of 20000 samples, `scipy.signal.spectrogram(x, fs=4000, nperseg=1024)` "
        f"(22 frames x 513 bins), compression `{meta['compression']}` (log(PSD + 1e-10)), per-bin mean and std "
        "from the training clips only (stored in the checkpoint); the model's first step removes each clip's mean "
        f"log level (input normalisation `{cfg.input_norm}`).", "",
        "## Metrics", "",
        f"`auralize evaluate trained/{name}.pt --data {data_arg} --split {meta['split']}` prints:", "",
        "```", ev.coverage, f"test: {ev.n_clips} clips, {ev.n_tracks} tracks",
        f"clip accuracy  {ev.clip_accuracy:.3f}", f"track accuracy {ev.track_accuracy:.3f}", "```", "",
        ev.table(), "",
        "Genres with fewer than 5 test tracks are flagged: their figures rest on 3-4 songs.", "",
        "## Neurons", "",
        (f"`{neurons.name}` holds the per-genre top neurons (`auralize neurons trained/{name}.pt --data {data_arg}`), "
         "which `auralize --genre G` dreams with." if neurons.exists() else "No neuron statistics saved."), "",
        "## Limitations", "",
        "- Six genres have only 14-19 tracks in this copy; the model knows them from few songs and "
        "confuses them often (see the table).",
        "- Trained and evaluated on 30-s GTZAN excerpts at 4 kHz: everything above 2 kHz is invisible to it.",
        "- Not comparable with the paper's figures, which use a leaky clip-level split; see docs/results/.", "",
        "## Licence of the data", "",
        "GTZAN's audio comes from radio and CDs and its copyright status is unclear; it is used for research "
        "only. No audio, and nothing from which it could be rebuilt, is in this repository: the checkpoint "
        "holds learned weights and per-bin input statistics (513 means, standard deviations and ranges).", "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    data = load_dataset(args.data, progress=False)
    for name in NAMES:
        if (TRAINED / f"{name}.pt").exists():
            atomic_write_text(TRAINED / f"{name}.md", card(name, data, args.data))
            print(f"wrote trained/{name}.md")


if __name__ == "__main__":
    main()
