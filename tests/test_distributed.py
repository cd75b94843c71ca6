"""Past one process: DDP under torchrun (gloo on the CPU) gives one process's checkpoint and resumes; ranks that
disagree on the data are told so; worker processes (--jobs) give the output of one."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import auralize
from auralize import store as S
from auralize.training import TrainSettings, train

from conftest import run_cli, write_song
from test_training import interrupt_at

REPO = Path(auralize.__file__).resolve().parents[1]
#: A tiny model without dropout (each rank draws its own masks), with augmentation: batch 29 of the 30 training
#: clips splits 15/14 over two ranks, and its last batch of one clip leaves rank 1 with none.
TINY = ["--model", "lstm", "--hidden", "6", "--layers", "1", "--dropout", "0", "--batch-size", "29", "--split",
        "track", "--seed", "4", "--patience", "99", "--quiet"]


def child_env() -> dict:
    """The test's environment for a child process: this checkout's package, one thread, the session's cache."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1"}


def torchrun(*args, n=2) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(n),
                           *map(str, args)], capture_output=True, text=True, env=child_env(), timeout=300)


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def assert_same_weights(a, b):
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_two_gloo_processes_give_the_checkpoint_of_one(gtzan_dir, tmp_path):
    code, _, err = run_cli(["train", *TINY, "--data", gtzan_dir, "--epochs", "3", "-o", tmp_path / "one.pt"])
    assert code == 0, err
    proc = torchrun("-m", "auralize", "train", *TINY, "--data", gtzan_dir, "--epochs", "3", "-o", tmp_path / "two.pt")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("saved ") == 1 and proc.stderr.count("found 21 tracks") == 1  # rank 0 alone speaks
    assert_same_weights(weights(tmp_path / "one.pt"), weights(tmp_path / "two.pt"))
    one, two = (auralize.load_model(tmp_path / f"{n}.pt").meta["history"] for n in ("one", "two"))
    np.testing.assert_allclose([h["loss"] for h in two], [h["loss"] for h in one], rtol=1e-6)
    assert not (tmp_path / "two.resume.pt").exists()


@pytest.mark.slow
def test_resume_under_torchrun(gtzan_dir, tmp_path, monkeypatch):
    from auralize import data as D

    ds = D.load_dataset(gtzan_dir, progress=False)
    kw = dict(hidden=6, layers=1, dropout=0.0, seed=4, progress=False, log=lambda m: None,
              settings=TrainSettings(epochs=3, batch_size=29, patience=99))
    train("lstm", ds, "track", out=tmp_path / "full.pt", **kw)
    undo = interrupt_at(monkeypatch, 2)  # one process stops in epoch 2, leaving epoch 1's resume file
    with pytest.raises(KeyboardInterrupt):
        train("lstm", ds, "track", out=tmp_path / "r.pt", **kw)
    undo()
    proc = torchrun("-m", "auralize", "train", *TINY, "--data", gtzan_dir, "--epochs", "3", "-o", tmp_path / "r.pt",
                    "--resume")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("resuming after epoch 1") == 1
    assert_same_weights(weights(tmp_path / "full.pt"), weights(tmp_path / "r.pt"))
    assert not (tmp_path / "r.resume.pt").exists()


@pytest.mark.slow
def test_ranks_that_disagree_on_the_data_are_told_which(tmp_path):
    script = tmp_path / "disagree.py"
    script.write_text("import os, sys, torch\n"
                      "from auralize import distributed\n"
                      "from auralize.errors import AuralizeError\n"
                      "distributed.start(torch.device('cpu'))\n"
                      "try:\n"
                      "    distributed.agree('data', 'found %s tracks' % (21 + int(os.environ['RANK'])), 'give every "
                      "rank the same --data')\n"
                      "except AuralizeError as exc:\n"
                      "    print('rank', os.environ['RANK'], exc, flush=True)\n"
                      "    sys.exit(2)\n")
    proc = torchrun(script)
    assert proc.returncode != 0
    lines = sorted(line for line in proc.stdout.splitlines() if line.startswith("rank "))
    assert lines and lines[0].startswith("rank 0 the torchrun ranks disagree on the data: rank 1 has 'found 22 tracks', "
                                         "rank 0 has 'found 21 tracks'"), proc.stdout + proc.stderr
    # rank 1 waits for rank 0 to speak; torchrun may stop it before it says its own line
    assert lines[1:] in ([], ["rank 1 the torchrun ranks disagree on the data (rank 0 says which); give every rank "
                              "the same --data"]), proc.stdout


@pytest.mark.slow
def test_jobs_give_the_output_of_one_process(gtzan_dir, ckpt, tmp_path):
    songs = [write_song(tmp_path / f"s{i}.wav", seconds=6 + 3 * i) for i in range(3)]
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    songs.insert(1, tmp_path / "bad.wav")
    runs = [run_cli(["predict", *songs, "--checkpoint", ckpt, "--clips", "--jobs", n]) for n in (1, 2)]
    assert runs[0][0] == 0 and runs[0][1] == runs[1][1] and runs[0][1].count(".wav:") == 3
    assert runs[0][2] == runs[1][2] and "skipping" in runs[0][2]
    one, two = (S.build_store(gtzan_dir, tmp_path / f"store{n}", jobs=n, progress=False) for n in (1, 2))
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())
    assert all((one / p.name).read_bytes() == p.read_bytes() for p in two.iterdir() if p.suffix == ".npy")


@pytest.mark.slow
def test_dreams_in_workers_are_the_dreams_of_one_process(tmp_path):
    args = ["--genre", "jazz,metal,blues", "--steps", "3", "--iters", "1", "--no-panel", "--control", "--quiet"]
    outs = []
    for jobs in (1, 2):
        code, out, err = run_cli([*args, "--jobs", jobs, "-o", tmp_path / f"j{jobs}/"])
        assert code == 0, err
        outs.append(out.splitlines()[:-1])  # the last line says how long it took
    assert outs[0] == [line.replace("/j2/", "/j1/") for line in outs[1]]
    one, two = tmp_path / "j1", tmp_path / "j2"
    names = sorted(p.name for p in one.iterdir())
    # 3 dreams, their 3 controls from noise and 3 at their mixture components, 5 files each
    assert names == sorted(p.name for p in two.iterdir()) and len(names) == 45
    for name in names:
        a, b = (one / name).read_bytes(), (two / name).read_bytes()
        assert a == (b.replace(b"/j2/", b"/j1/") if name.endswith(".json") else b), name


def test_jobs_need_a_model_from_a_file(ckpt, tmp_path):
    """A worker loads the model itself: one built in memory is refused, by dreams and predict alike."""
    from auralize.errors import AuralizeError
    from auralize.evaluation import predict_many

    in_memory = auralize.ensemble([auralize.load_model(ckpt)])
    with pytest.raises(AuralizeError, match="came from a file"):
        auralize.make_audible(in_memory, ["classical", "metal"], tmp_path / "d", jobs=2)
    song = write_song(tmp_path / "s.wav", seconds=6)
    with pytest.raises(AuralizeError, match="came from a file"):
        list(predict_many(in_memory, [song, song], jobs=2))


def test_auto_jobs_are_one_per_core_and_never_more_than_the_tasks(monkeypatch):
    from auralize.errors import AuralizeError
    from auralize.workers import AUTO_MAX, resolve_jobs

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    assert resolve_jobs("auto", 10) == AUTO_MAX and resolve_jobs("auto", 3) == 3 and resolve_jobs("auto", 1) == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert resolve_jobs("auto", 10) == 2
    assert resolve_jobs(3, 10) == 3 and resolve_jobs(3, 1) == 1
    with pytest.raises(AuralizeError, match="'auto'"):
        resolve_jobs("many", 10)


def test_auto_jobs_check_the_settings_before_any_worker_starts(toy_checkpoint, tmp_path):
    """--jobs auto is the default: a bad setting of --genre all is one line, with no word of workers before it."""
    from conftest import one_line_error, run_cli

    code, _, err = run_cli(["--genre", "all", "--checkpoint", toy_checkpoint, "-o", tmp_path / "d", "--prior-genre",
                            "nosuch", "--objective", "class"])
    one_line_error(code, err, "prior-genre")
    assert not (tmp_path / "d").exists()
    # a model built in memory dreams in this process under auto, as it must
    model = auralize.load_model(toy_checkpoint)
    model.path = None
    summaries = auralize.make_audible(model, ["classical", "metal"], tmp_path / "m", jobs="auto", panel=False,
                                      target=auralize.Target(objective="class"),
                                      settings=auralize.DreamSettings(steps=2, griffin_lim_iters=2))
    assert [s["genre"] for s in summaries] == ["classical", "metal"]
