"""Issue 18, B and E: nothing the user has is lost, and what is written is what was meant.

Outputs that would replace inputs or shipped artefacts, a full disk in every writer, folders left
empty by failed commands, the gallery's size cap, temporary files and local paths, a trailing slash.
"""
import contextlib
import errno
import resource
import signal
import shutil

import numpy as np
import pytest

import auralize
from auralize import data as D
from conftest import ends_in_error, one_line_error, run_cli, write_song as song


def run(*args, env=None):
    return run_cli(args, env)






def dream(ck, out, *extra):
    return run("--genre", "jazz", "--checkpoint", ck, "-o", out, "--objective", "class", "--steps", "2",
               "--iters", "2", "--quiet", *extra)


# 7: an output that is an input is refused before any work, and the input survives
def test_item7_init_as_output_is_refused(toy_checkpoint, tmp_path):
    start = song(tmp_path / "mine.wav")
    before = start.read_bytes()
    one_line_error(*dream(toy_checkpoint, start, "--init", start, "--no-panel")[::2], "mine.wav", "init")
    one_line_error(*dream(toy_checkpoint, tmp_path / "mine", "--init", start, "--no-panel")[::2], "init")
    assert start.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["mine.wav"]


def test_item7_invert_onto_its_spectrogram_is_refused(tmp_path):
    spec = tmp_path / "x.npy"
    np.save(spec, np.full((22, 513), 1e-6))
    before = spec.read_bytes()
    one_line_error(*run("invert", spec, "-o", spec)[::2], "x.npy", "spectrogram")
    assert spec.read_bytes() == before


@pytest.mark.parametrize("command", [["train-prior"], ["train-judge", "features"]])
def test_item7_an_artefact_at_its_cards_path_is_refused_before_training(gtzan_dir, tmp_path, command):
    code, _, err = run(*command, "--data", gtzan_dir, "-o", tmp_path / "x.md", "--quiet")
    one_line_error(code, err, "x.md", "model card")
    assert not list(tmp_path.iterdir())


# 8: what the repository ships is replaced only with --force
@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A copy of trained/ (prior and panel) standing in for the repository's, with its docs/results."""
    repo = tmp_path / "repo"
    shutil.copytree(auralize.TRAINED_DIR, repo / "trained", ignore=shutil.ignore_patterns("*.pt", "*neurons*"))
    (repo / "docs" / "results").mkdir(parents=True)
    (repo / "docs" / "results" / "track.md").write_text("the six-model table\n")
    monkeypatch.setattr(auralize, "TRAINED_DIR", repo / "trained")
    for name in ("AURALIZE_PRIOR", "AURALIZE_PANEL"):
        monkeypatch.delenv(name, raising=False)
    return repo


@pytest.mark.parametrize("command,artefact", [
    (["train-prior"], "trained/music-mix-prior.npz"),
    (["train-prior", "--kind", "music"], "trained/music-prior.npz"),
    (["train-prior", "--kind", "genre"], "trained/genre-prior.npz"),
    (["train-judge", "features"], "trained/panel/features.npz"),
])
@pytest.mark.slow
def test_item8_shipped_artefacts_need_force(gtzan_dir, shipped, command, artefact):
    before = (shipped / artefact).read_bytes()
    code, _, err = run(*command, "--data", gtzan_dir, "--quiet")
    one_line_error(code, err, artefact.split("/")[-1], "--force")
    assert (shipped / artefact).read_bytes() == before
    code, _, err = run(*command, "--data", gtzan_dir, "-o", shipped / artefact, "--quiet")
    one_line_error(code, err, "--force")  # named explicitly, still shipped
    code, _, err = run(*command, "--data", gtzan_dir, "--force", "--quiet")
    assert code == 0 and (shipped / artefact).read_bytes() != before, err


def test_neurons_of_a_shipped_checkpoint_need_force(ckpt, gtzan_dir, shipped):
    """The statistics go beside the checkpoint (where dreams read them), and a shipped model's are replaced
    only with --force; -o writes them, with the figures, into another folder."""
    model = shipped / "trained" / "mlp.pt"
    shutil.copy(ckpt, model)
    code, _, err = run("neurons", model, "--data", gtzan_dir, "--quiet")
    assert code == 0, err
    saved = shipped / "trained" / "mlp.neurons.json"
    before = saved.read_bytes()
    saved.write_text(before.decode().replace('"rule"', '"rule" ', 1))  # a changed byte, to see if it is replaced
    edited = saved.read_bytes()
    code, _, err = run("neurons", model, "--data", gtzan_dir, "--quiet")
    one_line_error(code, err, "mlp.neurons.json", "--force", "-o")
    assert saved.read_bytes() == edited
    code, _, err = run("neurons", model, "--data", gtzan_dir, "--quiet", "-o", shipped / "elsewhere")
    assert code == 0 and saved.read_bytes() == edited, err  # -o: the statistics go there, the shipped ones stay
    assert (shipped / "elsewhere" / "mlp.neurons.json").read_bytes() == before
    code, _, err = run("neurons", model, "--data", gtzan_dir, "--quiet", "--force")
    assert code == 0 and saved.read_bytes() == before, err


def test_item8_reproduce_does_not_replace_the_shipped_table(gtzan_dir, shipped, monkeypatch):
    monkeypatch.chdir(shipped)
    code, _, err = run("reproduce", "--data", gtzan_dir, "--split", "track", "--models", "softmax", "--quiet")
    ends_in_error(code, err, "track.md", "--force")
    assert (shipped / "docs" / "results" / "track.md").read_text() == "the six-model table\n"


# 18: a full disk is one line, whatever library was writing
@contextlib.contextmanager
def file_size_limit(limit: int):
    """Every write past ``limit`` bytes fails as on a full disk (EFBIG: RLIMIT_FSIZE, SIGXFSZ ignored)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dream", "predict", "gallery", "explain", "train", "train-prior", "train-judge"])
def test_item18_a_full_disk_is_one_line_in_every_writer(name, toy_checkpoint, ckpt, gtzan_dir, tmp_path):
    D.load_dataset(gtzan_dir, progress=False)  # the feature cache is written before the disk "fills"
    out = tmp_path / "out"
    wav = song(tmp_path / "s.wav")
    gallery = tmp_path / "g"
    assert dream(toy_checkpoint, gallery / "j.wav", "--no-panel")[0] == 0
    commands = {
        "dream": (["--genre", "jazz", "--checkpoint", toy_checkpoint, "-o", out / "j.wav", "--objective", "class",
                   "--steps", "2", "--iters", "2", "--no-panel", "--quiet"], 100_000),
        "predict": (["predict", wav, "--checkpoint", toy_checkpoint, "-o", out / "t.csv"], 16),
        "gallery": (["gallery", gallery, "-o", out / "index.html"], 10_000),
        "explain": (["explain", wav, "--checkpoint", toy_checkpoint, "--method", "saliency", "-o", out, "--quiet"],
                    100_000),
        "train": (["train", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--data", gtzan_dir, "--split",
                   "track", "-o", out / "m.pt", "--quiet"], 100_000),
        "train-prior": (["train-prior", "--data", gtzan_dir, "-o", out / "p.npz", "--quiet"], 100_000),
        "train-judge": (["train-judge", "features", "--data", gtzan_dir, "-o", out / "f.npz", "--quiet"], 1_000),
    }
    args, limit = commands[name]
    with file_size_limit(limit):
        code, _, err = run(*args)
    ends_in_error(code, err, "cannot write", str(out), "File too large")
    assert not [p for p in out.rglob("*") if p.is_file()] if out.exists() else True  # nothing half-written


def test_item18_the_message_of_a_full_disk(tmp_path, monkeypatch):
    from auralize import io

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.Path, "write_text", full)
    with pytest.raises(auralize.AuralizeError, match="cannot write .*t.json: No space left on device"):
        io.atomic_write_text(tmp_path / "t.json", "{}")
    assert not list(tmp_path.iterdir())


# 25: a command that fails leaves no empty output folder
def test_item25_failed_commands_leave_no_folder(toy_checkpoint, ckpt, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "metal").mkdir()
    cases = [
        dream(toy_checkpoint, tmp_path / "d" / "j.wav", "--init", tmp_path / "missing.wav", "--no-panel"),
        run("explain", tmp_path / "missing.wav", "--checkpoint", toy_checkpoint, "-o", tmp_path / "x"),
        run("evaluate", ckpt, "--data", empty, "-o", tmp_path / "e"),
        run("train", "--model", "mlp", "--data", empty, "-o", tmp_path / "r" / "m.pt"),
        run("train-prior", "--data", empty, "-o", tmp_path / "p" / "p.npz"),
        run("train-judge", "features", "--data", empty, "-o", tmp_path / "j" / "f.npz"),
    ]
    for code, _, err in cases:
        assert code == 2, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_item25_a_figure_that_fails_leaves_no_folder(toy_checkpoint, tmp_path, monkeypatch):
    from auralize import plots

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plots.pyplot().Figure, "savefig", broken)
    ends_in_error(*run("explain", song(tmp_path / "s.wav"), "--checkpoint", toy_checkpoint, "--method", "saliency",
                       "-o", tmp_path / "x" / "y", "--quiet")[::2], "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]


# 14: the gallery embeds no file too large for a page
def test_item14_the_gallery_skips_huge_files(toy_checkpoint, tmp_path):
    g = tmp_path / "g"
    assert dream(toy_checkpoint, g / "j.wav", "--no-panel")[0] == 0
    big = g / "j-22050.wav"
    with open(big, "r+b") as fh:
        fh.truncate(300 * 2**20)  # a 300 MB file (sparse)
    code, _, err = run("gallery", g)
    assert code == 0 and "skipped" in err and "j-22050.wav" in err and "MB" in err, err
    page = g / "index.html"
    assert page.stat().st_size < 2 * 2**20 and "<audio" in page.read_text()  # the 4 kHz WAV plays instead


# 27: a writer's temporary files are no result
def test_item27_the_gallery_ignores_temporary_files(toy_checkpoint, tmp_path):
    g = tmp_path / "g"
    assert dream(toy_checkpoint, g / "j.wav", "--no-panel")[0] == 0
    (g / ".j.json.k2x9.tmp.json").write_text('{"kind": "dream"')  # what a kill -9 leaves
    code, _, err = run("gallery", g)
    assert code == 0 and "warning" not in err, err


# 31: the shared page holds no local absolute path
def test_item31_the_gallery_shows_no_absolute_local_paths(toy_checkpoint, tmp_path):
    g = tmp_path / "g"
    prior = shutil.copy(auralize.TRAINED_DIR / "genre-prior.npz", tmp_path / "prior.npz")
    code, _, err = run("--genre", "jazz", "--checkpoint", toy_checkpoint.resolve(), "-o", (g / "j.wav").resolve(),
                       "--steps", "2", "--iters", "2", "--objective", "class", "--prior", prior, "--no-panel",
                       "--quiet")
    assert code == 0, err
    assert str(tmp_path) in (g / "j.json").read_text()  # the local result keeps where things are
    assert run("gallery", g)[0] == 0
    page = (g / "index.html").read_text()
    assert str(tmp_path) not in page and str(toy_checkpoint.parent) not in page
    assert "toy.pt" in page and "prior.npz" in page


# 32: a trailing slash means a folder
def test_item32_a_trailing_slash_is_a_folder(toy_checkpoint, tmp_path):
    code, out, err = dream(toy_checkpoint, f"{tmp_path}/x/run3/", "--no-panel")
    assert code == 0, err
    assert (tmp_path / "x" / "run3" / "quintessential-jazz.wav").is_file()
    assert not (tmp_path / "x" / "run3.wav").exists()
    spec = tmp_path / "x" / "run3" / "quintessential-jazz.npy"
    code, _, err = run("invert", spec, "-o", f"{tmp_path}/wavs/")
    assert code == 0 and (tmp_path / "wavs" / "quintessential-jazz.wav").is_file(), err


def test_workers_check_one_folder_at_once(tmp_path):
    """--jobs: every worker checks the output folder before it dreams; their probes must not collide."""
    from concurrent.futures import ThreadPoolExecutor

    from auralize.io import ensure_writable

    with ThreadPoolExecutor(8) as pool:
        assert all(f == tmp_path / "out" for f in pool.map(lambda _: ensure_writable(tmp_path / "out"), range(400)))
    assert list(tmp_path.iterdir()) == []  # nothing made, nothing left
