"""The feature store: built from synthetic audio, it gives the in-memory data set's clips, trains, evaluates and
finds neurons as the data set in memory does; it resumes, rebuilds damaged shards and refuses foreign stores."""
import json
import warnings

import numpy as np
import pytest
import torch

from auralize import data as D
from auralize import neurons as N
from auralize import store as S
from auralize.errors import AuralizeError
from auralize.evaluation import data_inputs, evaluate
from auralize.training import TrainSettings, train

from conftest import one_line_error, run_cli


@pytest.fixture(scope="module")
def memory(gtzan_dir):
    return D.load_dataset(gtzan_dir, progress=False)


@pytest.fixture(scope="module")
def store(gtzan_dir, tmp_path_factory):
    return S.build_store(gtzan_dir, tmp_path_factory.mktemp("store") / "gtzan", progress=False)


def test_store_holds_the_clips_of_the_data_set(memory, store):
    lazy = D.load_dataset(store)
    assert not isinstance(lazy.psd, np.ndarray) and lazy.psd.shape == memory.psd.shape
    assert lazy.summary() == memory.summary() and lazy.genres == memory.genres
    for name in ("label", "track", "clip_index"):
        np.testing.assert_array_equal(getattr(lazy, name), getattr(memory, name))
    ids = np.array([7, 0, 30, 3, 3])
    np.testing.assert_array_equal(lazy.psd[ids], memory.psd[ids])
    np.testing.assert_array_equal(lazy.psd[2:9], memory.psd[2:9])
    np.testing.assert_array_equal(lazy.psd[5], memory.psd[5])
    both = lazy.only(["metal", "classical"]), memory.only(["metal", "classical"])
    assert not isinstance(both[0].psd, np.ndarray)  # still lazy
    np.testing.assert_array_equal(both[0].psd[:], both[1].psd)
    np.testing.assert_array_equal(both[0].label, both[1].label)


def test_training_evaluation_and_neurons_stream_to_the_same_figures(memory, store):
    lazy = D.load_dataset(store)
    kw = dict(hidden=6, layers=1, settings=TrainSettings(epochs=2, batch_size=8), seed=3, progress=False,
              log=lambda m: None)
    a, b = train("lstm", memory, "track", **kw), train("lstm", lazy, "track", **kw)
    for k, v in a.model.state_dict().items():
        torch.testing.assert_close(b.model.state_dict()[k], v)
    same = [json.dumps(evaluate(a.model, d, "track").to_dict(), sort_keys=True) for d in (memory, lazy)]
    assert same[0] == same[1]
    whole, streamed = (N.top_neurons(a.model, data_inputs(a.model, d), "layer1.h") for d in (memory, lazy))
    np.testing.assert_array_equal(streamed.thresholds, whole.thresholds)  # exact quantiles, not a sketch
    np.testing.assert_array_equal(streamed.active_rate, whole.active_rate)
    np.testing.assert_allclose(streamed.mean_activation, whole.mean_activation, rtol=1e-6, atol=1e-7)


def test_neuron_statistics_in_memory_are_those_of_before(memory):
    """The in-memory path keeps its figures byte for byte (the definitions of the module docstring)."""
    model = train("lstm", memory, "track", hidden=5, layers=2, settings=TrainSettings(epochs=1, batch_size=8),
                  progress=False, log=lambda m: None).model
    x = data_inputs(model, memory)
    acts, pred = N.activations(model, x, "layer2.h", "mean")
    thresholds = np.quantile(acts, 0.9, axis=0)
    report = N.top_neurons(model, x, "layer2.h")
    np.testing.assert_array_equal(report.thresholds, thresholds)
    for g in np.unique(pred):
        rows = pred == g
        np.testing.assert_array_equal(report.active_rate[g], (acts > thresholds)[rows].mean(0))
        np.testing.assert_array_equal(report.mean_activation[g], acts[rows].mean(0))


def test_spilled_quantiles_are_numpys_in_blocks_of_units():
    rng = np.random.default_rng(0)
    acts = rng.standard_normal((1000, 37)).astype(np.float32)
    spill = N._Spill()
    with spill.file:
        for i in range(0, 1000, 300):
            spill.append(acts[i:i + 300])
        np.testing.assert_array_equal(spill.quantile(0.9, budget=4 * 1000 * 5), np.quantile(acts, 0.9, axis=0))


def test_a_build_resumes_and_rebuilds_a_damaged_shard(gtzan_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(S, "TRACKS_PER_SHARD", 5)
    folder = S.build_store(gtzan_dir, tmp_path / "s", progress=False)
    shards = sorted(folder.glob("shard-*.npy"))
    assert len(shards) == 5  # 21 tracks
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / "shard-00002.json").unlink()  # as if the build had stopped before it
    bad = np.load(shards[3])
    bad[0, 0, 0] += 1
    np.save(shards[3], bad)
    said = []
    with pytest.warns(UserWarning, match="shard-00003 has a bad checksum"):
        S.build_store(gtzan_dir, folder, progress=False, log=said.append)
    assert said == ["resuming: 3 of 5 shards are complete and checked; building 2"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first
    monkeypatch.setattr(S, "TRACKS_PER_SHARD", 11)  # other shards: all rebuilt, the stale ones gone
    S.build_store(gtzan_dir, folder, progress=False)
    assert sorted(p.name for p in folder.glob("shard-*.npy")) == ["shard-00000.npy", "shard-00001.npy"]
    np.testing.assert_array_equal(D.load_dataset(folder).psd[:], D.load_dataset(gtzan_dir, progress=False).psd)


def test_reading_a_damaged_shard_is_a_one_line_error(gtzan_dir, tmp_path):
    folder = S.build_store(gtzan_dir, tmp_path / "s", progress=False)
    shard = next(folder.glob("shard-*.npy"))
    rows = np.load(shard)
    rows[-1, -1, -1] = 7.0
    np.save(shard, rows)
    code, _, err = run_cli(["train", "--model", "mlp", "--data", folder, "--split", "track", "--epochs", "1",
                            "-o", tmp_path / "m.pt", "--quiet"])
    assert code == 2 and err.strip().splitlines()[-1].startswith("auralize: error: store shard")
    assert "fails its checksum" in err and "auralize cache" in err


@pytest.mark.parametrize("field,value,needle", [("format", "auralize-store-0", "another version"),
                                                 ("frontend", "0123456789ab", "another front end")])
def test_a_foreign_store_is_refused(gtzan_dir, store, tmp_path, field, value, needle):
    import shutil

    folder = tmp_path / "s"
    shutil.copytree(store, folder)
    index = json.loads((folder / "store.json").read_text())
    index[field] = value
    (folder / "store.json").write_text(json.dumps(index))
    for args in (["cache", "--data", gtzan_dir, "--store", folder],
                 ["train", "--model", "mlp", "--data", folder, "-o", tmp_path / "m.pt"]):
        one_line_error(*run_cli(args)[::2], needle, "auralize cache")


def test_cache_command_and_labels_table(gtzan_dir, tmp_path):
    rows = ["file,genre_top"] + [f"{p.relative_to(gtzan_dir)},{p.parent.name}" for p in sorted(gtzan_dir.rglob("*.wav"))]
    (tmp_path / "noise.wav").write_bytes(b"not audio")
    rows += ["metal/missing.00001.wav,metal", "classical/classical.00000.wav,",  # a missing file, no genre,
             f"{tmp_path / 'noise.wav'},metal"]  # an unreadable one (an absolute path)
    table = tmp_path / "tracks.csv"
    table.write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(["cache", "--data", gtzan_dir, "--labels", table, "--store", tmp_path / "s", "--quiet"])
    assert code == 0, err
    assert "1 files the labels table tracks.csv names are missing" in err and "1 rows of tracks.csv have no genre" in err
    assert f"warning: skipping {tmp_path / 'noise.wav'}" in err
    assert "found 21 tracks (42 clips)" in out and "skipped 1 unreadable: noise.wav" in out
    assert f"--data {tmp_path / 's'}" in out
    table.write_text("path,style\nmetal/x.wav,metal\n")
    one_line_error(*run_cli(["cache", "--data", gtzan_dir, "--labels", table])[::2], "has no genre column",
                   "genre_top")


def test_labels_name_genres_whatever_the_folders(gtzan_dir, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    lines = ["path,genre"]
    for p in sorted(gtzan_dir.rglob("*.wav")):
        (flat / p.name).symlink_to(p)
        lines.append(f"{p.name},{'calm' if p.parent.name == 'classical' else 'loud'}")
    (tmp_path / "t.csv").write_text("\n".join(lines))
    tracks, genres = D.discover(flat, tmp_path / "t.csv")
    assert genres == ("calm", "loud") and len(tracks) == 21
    with pytest.raises(AuralizeError, match="no audio tracks found"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            D.discover(flat, _table(tmp_path, "path,genre\nnothing.wav,calm\n"))


def _table(folder, text):
    path = folder / "other.csv"
    path.write_text(text)
    return path


def test_device_cuda_without_a_gpu_is_a_one_line_error(gtzan_dir, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    one_line_error(*run_cli(["train", "--model", "mlp", "--data", gtzan_dir, "--device", "cuda",
                             "-o", tmp_path / "m.pt"])[::2], "--device cuda", "no CUDA GPU")


def test_a_model_that_reads_audio_is_told_a_store_holds_none(store):
    import auralize

    code, _, err = run_cli(["evaluate", auralize.default_checkpoint("cnn-mel"), "--data", store, "--quiet"])
    one_line_error(code, err, "is a feature store, which holds PSDs, not audio", "the data folder it was made from")
