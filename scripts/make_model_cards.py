"""Write trained/<name>.md for every shipped checkpoint, from the checkpoint and a fresh evaluation.

    python scripts/make_model_cards.py --data ../shared/gtzan4k

Every accuracy in a card is printed by 'auralize evaluate trained/<name>.pt --data DATA' (the checkpoint's
own held-out test part); the dreaming models' cards (the default ensemble and its members) add the members'
accuracy under the adversary they were trained against, and their dreams' figures from
docs/results/dream-study.json (scripts/dream_study.py).
"""
import argparse
import json
from pathlib import Path

import torch

from auralize import DREAMING_MODEL, load_clips, load_dataset, load_model, results
from auralize.data import make_split
from auralize.evaluation import data_inputs, evaluate
from auralize.io import atomic_write_text
from auralize.robust import ROBUST, robust_accuracy

ROOT = Path(__file__).resolve().parents[1]
TRAINED = ROOT / "trained"
STUDY = ROOT / "docs" / "results" / "dream-study.json"
NAMES = {"lstm": "LSTM 2x250", "rnn": "Vanilla RNN 2x125", "attention": "LSTM with soft attention 2x60"}
LICENCE = ["## Licence of the data", "",
           "GTZAN's audio comes from radio and CDs and its copyright status is unclear; it is used for research "
           "only. No audio, and nothing from which it could be rebuilt, is in this repository: the checkpoint "
           "holds learned weights and per-band (or per-bin) input statistics.", ""]


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
        *LICENCE,
    ]
    return "\n".join(lines)


def study_rows(candidate: str = "default") -> list[str]:
    """The dream study's summary rows of one candidate (its dreams and their controls), if the study has been run."""
    if not STUDY.is_file():
        return ["`python scripts/dream_study.py --data ../shared/gtzan4k` has not been run in this checkout."]
    rows = {r["row"]: r for r in json.loads(STUDY.read_text())["rows"]}
    out = []
    for key, row in rows.items():
        if key.startswith(f"{candidate}, seed") or key.startswith(f"{candidate} prior-only control"):
            out.append(f"- `{key}`: the panel hears {row['panel_hits']} of {row['n_items']} as their genre "
                       f"(mean p(G) {row['mean_p_target']:.3f})")
    return out or [f"The study holds no row of the candidate {candidate!r}."]


#: The shipped models the default dreaming model (an ensemble file) is made of: name -> (title, what it is for, how
#: it was chosen, its candidates in the dream study).
MEMBERS = {
    "cnn-mel": (
        "A member of the dreaming model: a robust 1-D CNN on log-mel, trained with PGD",
        f"The first member of the default dreaming model (`trained/{DREAMING_MODEL}.json`, the mean of its and "
        "`trained/cnn-mel-trades.pt`'s log-probabilities), and the default dreaming model alone before it. It dreams "
        "alone with `--checkpoint trained/cnn-mel.pt` (the study's candidate `cnn-mel`). It was chosen because the "
        "held-out panel hears its dreams as their genre under the genre-blind music prior, which the paper's LSTM's "
        "dreams are not (docs/results/dream-study.md).",
        "Three seeds of this recipe were trained (0, 1, 2; `scripts/dream_study.py` makes the other two); this one "
        "was shipped because its dreams were heard most often on dream seeds 3 and 4, which no reported figure "
        "uses (a selection on the same panel).", ("cnn-mel",)),
    "cnn-mel-trades": (
        "A member of the dreaming model: the same CNN trained with TRADES",
        f"The second member of the default dreaming model (`trained/{DREAMING_MODEL}.json`). Alone "
        "(`--checkpoint trained/cnn-mel-trades.pt`, the study's candidate `trades`) its dreams carry more of the "
        "genre from the model than the PGD CNN's, but its own round trip on them is far lower (the study's last "
        "column).",
        "One seed (0) of this recipe was trained. It was chosen over PGD at eps 0.15 and 0.2 (the same study) on "
        "dream seeds 3 and 4, which no reported figure uses (a selection on the same panel).",
        ("trades",)),
}


def metrics(path: str, ev, lstm, data_arg: str) -> list[str]:
    """A dreaming model's metrics section: what evaluate prints, and its accuracy cost against the LSTM."""
    return [
        "## Metrics", "",
        f"`auralize evaluate {path} --data {data_arg}` prints:", "",
        "```", ev.coverage, f"test: {ev.n_clips} clips, {ev.n_tracks} tracks",
        f"clip accuracy  {ev.clip_accuracy:.3f}", f"track accuracy {ev.track_accuracy:.3f}", "```", "",
        ev.table(), "",
        f"**Accuracy cost**: the paper's LSTM (`trained/lstm.pt`) gets {lstm.clip_accuracy:.3f} / "
        f"{lstm.track_accuracy:.3f} on the same test part: this dreaming model's clip accuracy is "
        f"{ev.clip_accuracy - lstm.clip_accuracy:+.3f} and its track accuracy "
        f"{ev.track_accuracy - lstm.track_accuracy:+.3f} from the LSTM's.", ""]


def ensemble_card(name: str, clips, data_arg: str, lstm) -> str:
    """The card of the default dreaming model, an ensemble file of shipped checkpoints."""
    path = TRAINED / f"{name}.json"
    model = load_model(path)
    members = results.read(path, "ensemble")["members"]
    ev = evaluate(model, clips)
    neurons = TRAINED / f"{name}.neurons.json"
    lines = [
        f"# The dreaming model: an ensemble of two robust CNNs on log-mel (`trained/{name}.json`)", "",
        "The model `auralize --genre G` dreams with by default: the mean of the log-probabilities of "
        + " and ".join(f"`trained/{m}` (its card: `trained/{Path(m).stem}.md`)" for m in members)
        + ", the same 1-D CNN on the music prior's log-mel trained against two adversaries (PGD and TRADES). "
        "A dream must be heard as its genre by both at once. It was made the default because, of every candidate "
        "of the dream study, the held-out panel hears its dreams as their genre most often, with the most of the "
        "genre from the model (docs/results/dream-study.md, candidate `default`). It is not one of the paper's "
        "models and not a panel judge. The file names the members (relative to its folder) and holds no weights "
        "and no code; `auralize.load_model` reads it as it reads a checkpoint.", "",
        "## Made by", "", "```",
        f"auralize ensemble {' '.join(f'trained/{m}' for m in members)} -o trained/{name}.json --name "
        f"'{model.name}'", "```", "",
        "Each member's card says how it was trained and chosen.", "",
        "## Data and split", "",
        f"Both members were trained on the same split of `../shared/gtzan4k`: **{model.meta['coverage']}**, the one "
        "of every shipped checkpoint and of the panel, so its test part is held out from the dreaming model and "
        "from every judge.", "",
        *metrics(f"trained/{name}.json", ev, lstm, data_arg),
        "Robust accuracy is each member's (their cards); the ensemble has no single input space to measure it in.",
        "",
        "**Speed cost**: each ascent step runs both members (`python benchmarks/bench_dream.py` times the default).", "",
        "## Its dreams", "",
        "What the held-out panel hears in its dreams and in their prior-only controls "
        "(`python scripts/dream_study.py --data ../shared/gtzan4k --seeds 0,1,2`; candidate `default`):", "",
        *study_rows("default"), "",
        "## Neurons", "",
        (f"`{neurons.name}` holds the per-genre top neurons of the first member's pooled layer (`m0.pooled`; "
         f"`auralize neurons trained/{name}.json --data {data_arg}`), which `--objective neuron` dreams with."
         if neurons.exists() else "No neuron statistics."), "",
        "## Limitations", "",
        "- Six genres have only 14-19 tracks in this copy; see the table.",
        "- The panel hears the dreams of some genres less often than others, and the prior alone is heard as one "
        "genre (docs/results/panel.md); see the README.",
        "- Everything above 2 kHz is invisible to it, as to every model here.", "",
        *LICENCE,
    ]
    return "\n".join(lines)


def dreaming_card(name: str, clips, data_arg: str, lstm) -> str:
    """The card of a shipped dreaming model: what it is, how it was made, its accuracy and its cost."""
    model = load_model(TRAINED / f"{name}.pt")
    meta, cfg, st = model.meta, model.config, model.meta["settings"]
    ev = evaluate(model, clips)
    ids = make_split(clips.dataset, meta["split"], seed=meta.get("split_seed", 0))["test"]
    x, y = data_inputs(model, clips, ids), torch.from_numpy(clips.dataset.label[ids]).long()
    robust = {eps: robust_accuracy(model, x, y, eps) for eps in (0.05, 0.1, 0.2)}
    size_mb = (TRAINED / f"{name}.pt").stat().st_size / 1e6
    tracks = ", ".join(f"{g} {n}" for g, n in meta["train_tracks"].items())
    neurons = TRAINED / f"{name}.neurons.json"
    title, role, chosen, candidates = MEMBERS[name]
    adversary = ("every batch replaced by its L2 PGD adversary" if st["robust"] == "pgd" else
                 f"the loss of each batch: {ROBUST[st['robust']].help}")
    lines = [
        f"# {title} (`trained/{name}.pt`)", "",
        f"{role} It is not one of the paper's models and not a panel judge. "
        f"Kind `{cfg.kind}`: {cfg.layers} 1-D convolution blocks over time ({cfg.hidden} channels, the mel bands as "
        f"input channels, batch norm, ReLU, max-pooling), the mean over time, dropout {cfg.dropout}, the genre "
        f"layer. {size_mb:.1f} MB; loads with `auralize.load_model` (`torch.load(..., weights_only=True)` safe) "
        "and needs no data set.", "",
        "## Made by", "", "```", meta.get("command", "?"), f"cp {meta.get('command', '').split(' -o ')[-1].split()[0]} "
        f"trained/{name}.pt", "```", "",
        chosen, "",
        f"Seed {meta['seed']}; {st['optimizer']} (lr {st['lr']}, weight decay {st['weight_decay']}, "
        f"{st.get('schedule')} schedule), batch {st['batch_size']}, {st['epochs']} epochs, class weights "
        f"{st.get('class_weights')}, label smoothing {st.get('label_smoothing')}, random crops of {st.get('crop')} "
        f"frames; {adversary} (`--robust {st['robust']} --robust-eps "
        f"{st['robust_eps']}`: 3 steps from a random start, radius eps x sqrt(number of input values), eps the "
        "RMS change per standardised log-mel value). Best epoch "
        f"{meta['best_epoch']} by validation clip accuracy ({meta['best_valid_acc']:.3f}).", "",
        "## Data and split", "",
        f"`../shared/gtzan4k`, a partial copy of GTZAN: {meta['data_summary']}. Split: **{meta['coverage']}**, "
        "the one of every shipped checkpoint and of the panel, so its test part is held out from the dreaming "
        f"model and from every judge. Training tracks per genre: {tracks}.", "",
        "## Front end (the model's own)", "",
        "Mono 4000 Hz, 5-s clips of 20000 samples, each scaled to RMS 0.05 (the level dreams are written at, so "
        "the model is blind to loudness); the music prior's 48-band log-mel (512/128 STFT, 40 Hz-2 kHz, each "
        "clip's mean level removed), each band standardised by its mean and spread over the training clips "
        "(stored in the checkpoint).", "",
        *metrics(f"trained/{name}.pt", ev, lstm, data_arg),
        "Test clip accuracy under an L2 PGD adversary (5 steps, `auralize.robust.robust_accuracy`) of RMS "
        "radius eps in the standardised log-mel: "
        + ", ".join(f"eps {e}: {a:.3f}" for e, a in robust.items()) + ".", "",
        "## Its dreams", "",
        "What the held-out panel hears in its dreams and in their prior-only controls "
        "(`python scripts/dream_study.py --data ../shared/gtzan4k --seeds 0,1,2`; candidates "
        + ", ".join(f"`{c}`" for c in candidates) + "):", "",
        *[row for c in candidates for row in study_rows(c)], "",
        "## Neurons", "",
        (f"`{neurons.name}` holds the per-genre top neurons (`auralize neurons trained/{name}.pt --data "
         f"{data_arg}`), which `--objective neuron` dreams with." if neurons.exists() else "No neuron statistics."),
        "",
        "## Limitations", "",
        "- Six genres have only 14-19 tracks in this copy; see the table.",
        "- Training seeds differ in how audible their dreams are; the study's figures are for this checkpoint.",
        "- Everything above 2 kHz is invisible to it, as to every model here.", "",
        *LICENCE,
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
    if (TRAINED / f"{DREAMING_MODEL}.json").exists():
        lstm = evaluate(load_model(TRAINED / "lstm.pt"), data)
        clips = load_clips(args.data, progress=False)
        for name in MEMBERS:
            atomic_write_text(TRAINED / f"{name}.md", dreaming_card(name, clips, args.data, lstm))
            print(f"wrote trained/{name}.md")
        atomic_write_text(TRAINED / f"{DREAMING_MODEL}.md", ensemble_card(DREAMING_MODEL, clips, args.data, lstm))
        print(f"wrote trained/{DREAMING_MODEL}.md")


if __name__ == "__main__":
    main()
