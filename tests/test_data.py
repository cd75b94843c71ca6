import numpy as np
import pytest
import soundfile as sf

from auralize import data as D
from auralize import features as F
from auralize.errors import AuralizeError
from conftest import make_gtzan, synth_track


def test_discovers_original_layout(gtzan_dir):
    ds = D.load_dataset(gtzan_dir, progress=False)
    assert ds.genres == D.GENRES
    assert len(ds.tracks) == 21
    assert ds.psd.shape == (42, 22, 513)  # 10.5-s tracks: 2 clips each
    assert "found 21 tracks (42 clips) in 3 of 10 genres" in ds.summary()
    assert "blues 0" in ds.summary() and "metal 7" in ds.summary()


@pytest.mark.parametrize("layout,ext", [("Data/genres_original", "wav"), ("gtzan4k", "flac"), ("genres", "au")])
def test_layouts_and_formats(tmp_path, layout, ext):
    if ext == "au":
        pytest.importorskip("soundfile")
        if "AU" not in sf.available_formats():
            pytest.skip("libsndfile without AU support")
    make_gtzan(tmp_path / layout, {"train": 1, "test": 1}, seconds=5.2, sr=4000, ext=ext, genres=("jazz", "rock"))
    ds = D.load_dataset(tmp_path, progress=False)
    assert [t.genre for t in ds.tracks] == ["jazz", "jazz", "rock", "rock"]
    assert all(t.path.suffix == f".{ext}" for t in ds.tracks)


def test_custom_genre_folders_keep_their_names(tmp_path):
    for g in ("ambient", "techno"):
        (tmp_path / g).mkdir()
        sf.write(tmp_path / g / "a.wav", synth_track("metal", 0, 5.5, 4000), 4000)
    ds = D.load_dataset(tmp_path, progress=False)
    assert ds.genres == ("ambient", "techno")
    with pytest.raises(AuralizeError, match="use the track split"):
        D.make_split(ds, "filtered")


def test_corrupt_and_short_files_are_skipped_with_warning(tmp_path):
    make_gtzan(tmp_path, {"train": 2, "test": 1}, seconds=5.5, sr=4000, genres=("jazz",))
    (tmp_path / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00garbage")
    sf.write(tmp_path / "jazz" / "jazz.00099.wav", np.zeros(4000, np.float32), 4000)
    with pytest.warns(UserWarning) as caught:
        ds = D.load_dataset(tmp_path, progress=False)
    messages = " ".join(str(w.message) for w in caught)
    assert "jazz.00054" in messages and "jazz.00099" in messages and "at least 5 s" in messages
    assert len(ds.tracks) == 3
    assert len(ds.skipped) == 2
    assert "skipped 2 unreadable" in ds.summary()


def test_missing_or_empty_data_dir(tmp_path):
    with pytest.raises(AuralizeError, match="not found"):
        D.discover(tmp_path / "nope")
    with pytest.raises(AuralizeError, match="no audio tracks"):
        D.discover(tmp_path)


def test_cache_skips_decoding_on_second_run(tmp_path, monkeypatch):
    make_gtzan(tmp_path / "g", {"train": 2}, seconds=5.5, sr=4000, genres=("rock",))
    first = D.load_dataset(tmp_path / "g", cache_dir=tmp_path / "cache", progress=False)

    def fail(*a, **k):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(F, "load_audio", fail)
    second = D.load_dataset(tmp_path / "g", cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(first.psd, second.psd)
    with pytest.raises(AssertionError, match="decoded"):
        D.load_dataset(tmp_path / "g", progress=False, use_cache=False)


def _tracks_of(ds, ids):
    return set(ds.track[ids].tolist())


@pytest.mark.parametrize("name", ["filtered", "track"])
def test_no_track_on_both_sides(gtzan_dir, name):
    ds = D.load_dataset(gtzan_dir, progress=False)
    sp = D.make_split(ds, name, seed=3)
    parts = [_tracks_of(ds, sp[p]) for p in D.PARTS]
    assert all(parts)
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sum(len(sp[p]) for p in D.PARTS) == len(ds.psd)


def test_filtered_split_follows_the_lists(gtzan_dir):
    ds = D.load_dataset(gtzan_dir, progress=False)
    sp = D.make_split(ds, "filtered")
    lists = D.filtered_lists()
    for part in D.PARTS:
        assert {ds.tracks[t].stem for t in _tracks_of(ds, sp[part])} <= set(lists[part])
    assert "train 12 of 443 tracks" in sp.coverage
    assert len(lists["train"]) == 443 and len(lists["valid"]) == 197 and len(lists["test"]) == 290


def test_clip_split_is_the_papers_leaky_shuffle(gtzan_dir):
    ds = D.load_dataset(gtzan_dir, progress=False)
    sp = D.make_split(ds, "clip")
    n = len(ds.psd)
    assert [len(sp[p]) for p in D.PARTS] == [int(0.7 * n), int(0.8 * n) - int(0.7 * n), n - int(0.8 * n)]
    assert _tracks_of(ds, sp["train"]) & _tracks_of(ds, sp["test"])  # leaky by design
    again = D.make_split(ds, "clip")
    np.testing.assert_array_equal(sp["test"], again["test"])


def test_unknown_split(gtzan_dir):
    ds = D.load_dataset(gtzan_dir, progress=False)
    with pytest.raises(AuralizeError, match="unknown split"):
        D.make_split(ds, "random")


def test_only_some_genres(gtzan_dir):
    ds = D.load_dataset(gtzan_dir, progress=False)
    two = ds.only(["metal", "classical"])
    assert two.genres == ("metal", "classical")
    assert len(two.tracks) == 14 and len(two.psd) == 28
    assert set(two.label.tolist()) == {0, 1}
    assert all(two.genres[l] == two.tracks[t].genre for l, t in zip(two.label, two.track))
    assert "train 8 of 443 tracks" in D.make_split(two, "filtered").coverage
    with pytest.raises(AuralizeError, match="no tracks of genre 'jazz'"):
        ds.only(["jazz"])
