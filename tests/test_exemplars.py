"""Dataset examples are the real clips that drive a unit or a class most, checked on a model whose units are known."""
import numpy as np
import torch

import auralize
from auralize.exemplars import dataset_examples
from conftest import one_line_error, run_cli


class Loudness(torch.nn.Module):
    """Unit 0 of ``level`` is the clip's mean log power, unit 1 its negative; clips louder than ``middle`` are
    metal, the others classical (hiphop never)."""

    def __init__(self, middle: float) -> None:
        super().__init__()
        self.level = torch.nn.Identity()
        self.out = torch.nn.Linear(2, 3)
        with torch.no_grad():
            self.out.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
            self.out.bias.copy_(torch.tensor([-middle, middle, -1e3]))

    def forward(self, x):
        power = torch.log(x.pow(2).mean(-1, keepdim=True) + 1e-8)
        return self.out(self.level(torch.cat([power, -power], -1)))


def test_examples_are_the_argmax_clips_of_distinct_tracks(gtzan_dir):
    clips = auralize.load_clips(gtzan_dir)
    loudness = np.log((clips.audio.astype(np.float64) ** 2).mean(1) + 1e-8)
    model = auralize.wrap(Loudness(float(np.median(loudness))), features=lambda audio: audio,
                          genres=["metal", "classical", "hiphop"], default_layer="level")
    x = auralize.data_inputs(model, clips)
    report = auralize.top_neurons(model, x, "level", k=1)
    found = {e.genre: e for e in dataset_examples(model, clips, report, k=3, bottom=2)}
    metal = found["metal"]
    assert metal.unit == 0 and found["classical"].unit == 1 and found["hiphop"].unit is None
    assert metal.neuron_top[0].clip == int(np.argmax(loudness))
    assert metal.neuron_bottom[0].clip == int(np.argmin(loudness))
    assert len({clips.track[e.clip] for e in metal.neuron_top}) == 3  # three different tracks
    best_per_track = sorted({clips.track[i]: loudness[clips.track == clips.track[i]].max()
                             for i in range(len(loudness))}.values(), reverse=True)[:3]
    np.testing.assert_allclose([e.value for e in metal.neuron_top], best_per_track, rtol=1e-4)
    p = torch.softmax(model(x), 1).detach().numpy()
    assert found["classical"].class_top[0].clip == int(np.argmax(p[:, 1]))
    assert found["classical"].class_bottom[0].clip == int(np.argmin(p[:, 1]))


def test_neurons_examples_writes_clips_and_refuses_too_many(toy_checkpoint, gtzan_dir, tmp_path):
    code, out, err = run_cli(["neurons", toy_checkpoint, "--data", gtzan_dir, "--examples", "2", "--bottom", "1",
                              "-o", tmp_path, "--quiet"])
    assert code == 0, err
    stem = toy_checkpoint.stem
    saved = auralize.results.read(tmp_path / f"{stem}.examples" / "examples.json", "examples")
    entry = next(e for e in saved["genres"].values() if e.get("unit") is not None)  # a genre the model predicts
    assert len(entry["neuron_top"]) == 2 and len(entry["class_bottom"]) == 1
    assert (tmp_path / f"{stem}.examples" / entry["neuron_top"][0]["wav"]).is_file()
    assert (tmp_path / f"{stem}.examples" / entry["png"]).is_file()
    neurons_json = toy_checkpoint.with_name(f"{stem}.neurons.json")
    before = neurons_json.stat().st_mtime_ns if neurons_json.exists() else None
    code, _, err = run_cli(["neurons", toy_checkpoint, "--data", gtzan_dir, "--examples", "999", "-o", tmp_path,
                            "--quiet"])
    one_line_error(code, err, "--examples asks for 999 tracks; the data holds")
    assert (neurons_json.stat().st_mtime_ns if neurons_json.exists() else None) == before  # no work was done
