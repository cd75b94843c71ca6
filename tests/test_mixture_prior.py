"""The genre-blind mixture prior (``--prior music-mix``): fitted without labels, the music prior when it has one
component, a mode for each kind of music it saw, drawn by seed, saved and refused like any prior."""
import inspect

import numpy as np
import pytest
import torch

from auralize.dream.mixture_prior import MixturePrior, fit_mixture_prior, genre_in_components, genre_text
from auralize.dream.music_prior import fit_music_prior
from auralize.dream.priors import read_prior
from auralize.errors import AuralizeError
from conftest import one_line_error, run_cli, synth_track
from test_music_prior import same_pull_for_every_genre


@pytest.fixture(scope="module")
def two_kinds():
    """Clips of two synthetic genres (sustained tones, and beats over a high tone)."""
    clips = [synth_track(genre, i, 5.0, 4000)[:20000] for genre in ("classical", "hiphop") for i in range(10)]
    return np.stack(clips)


@pytest.fixture(scope="module")
def mixture(two_kinds):
    return fit_mixture_prior(two_kinds, components=2, rank=4)


def test_one_component_is_the_music_prior(two_kinds):
    one, gauss = fit_mixture_prior(two_kinds, components=1, rank=4), fit_music_prior(two_kinds, rank=4)
    audio = torch.from_numpy(np.concatenate([two_kinds[:3], np.random.default_rng(0).standard_normal((2, 20000))]))
    torch.testing.assert_close(one.distance(audio.float()), gauss.distance(audio.float()), rtol=0.05, atol=0.05)


def test_it_knows_no_genre_and_has_a_mode_for_each_kind(mixture, two_kinds):
    """The fit takes no labels; the pull is the same function for every genre; each kind of clip gets a component
    of its own (no label was read to find them), and sits closer to the mixture than to the one Gaussian."""
    assert "label" not in " ".join(inspect.signature(fit_mixture_prior).parameters)
    same_pull_for_every_genre(mixture, torch.from_numpy(two_kinds[[0, 12]]))
    assert not mixture.genre_aware and mixture.covers(["metal"]) == ["metal"]
    np.testing.assert_allclose(sorted(mixture.weights), [0.5, 0.5], atol=0.05)
    one = fit_mixture_prior(two_kinds, components=1, rank=4)
    audio = torch.from_numpy(two_kinds)
    assert float(mixture.distance(audio).mean()) < float(one.distance(audio).mean())
    noise = torch.randn(4, 20000, generator=torch.Generator().manual_seed(0))
    assert float(mixture.distance(audio).max()) < float(mixture.distance(noise).min())


def test_a_draw_is_one_component_by_seed(mixture, two_kinds):
    a, again = mixture.drawn(3), mixture.drawn(3)
    assert len(a.weights) == 1 and a.meta["component"] == again.meta["component"]
    np.testing.assert_array_equal(a.centers, again.centers)
    picked = {mixture.drawn(s).meta["component"] for s in range(20)}
    assert picked == {0, 1}  # both kinds of music, by seed
    k = a.meta["component"]
    np.testing.assert_array_equal(a.centers[0], mixture.centers[k])
    np.testing.assert_array_equal(a.residual, mixture.residual)


def test_one_component_alone_is_that_kind_of_music(mixture, two_kinds, tmp_path):
    """A component alone pulls to its own kind of clips, survives a file, and a component it lacks is one line."""
    audio = torch.from_numpy(two_kinds)
    kinds = mixture.component_of(two_kinds)
    for k in (0, 1):
        alone = read_prior(mixture.component(k).save(tmp_path / f"c{k}.npz"))
        near = alone.distance(audio)
        assert len(alone.weights) == 1 and alone.meta["component"] == k
        assert float(near[kinds == k].max()) < float(near[kinds != k].min())
    with pytest.raises(AuralizeError, match="component"):
        mixture.component(2)


def test_save_load_and_damage(mixture, two_kinds, tmp_path):
    path = mixture.save(tmp_path / "mix.npz")
    back = read_prior(path)
    assert isinstance(back, MixturePrior) and not list(tmp_path.glob("*.part*"))
    audio = torch.from_numpy(two_kinds[:4])
    torch.testing.assert_close(back.distance(audio), mixture.distance(audio))
    with np.load(path) as z:
        arrays = dict(z)
    for change, needle in (({"centers": arrays["centers"][:, :5]}, "does not fit"),
                           ({"weights": -arrays["weights"]}, "weight <= 0"),
                           ({"precision_chol": arrays["precision_chol"] * np.nan}, "NaN")):
        np.savez(tmp_path / "bad.npz", **{**arrays, **change})
        with pytest.raises(AuralizeError, match=needle):
            read_prior(tmp_path / "bad.npz")
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in arrays.items() if k != "centers"})
    with pytest.raises(AuralizeError, match="no centers"):
        read_prior(tmp_path / "bad.npz")


def test_the_command_fits_it_and_refuses_components_elsewhere(gtzan_dir, tmp_path):
    code, _, err = run_cli(["train-prior", "--kind", "music", "--components", "3", "--data", gtzan_dir,
                            "-o", tmp_path / "m.npz", "--quiet"])
    one_line_error(code, err, "a music prior has no mixture components")
    code, out, err = run_cli(["train-prior", "--kind", "music-mix", "--components", "2", "--rank", "3",
                              "--data", gtzan_dir, "-o", tmp_path / "mix.npz", "--quiet"])
    assert code == 0, err
    prior = read_prior(tmp_path / "mix.npz")
    assert isinstance(prior, MixturePrior) and len(prior.weights) == 2
    card = (tmp_path / "mix.md").read_text()
    assert "mixture of 2 Gaussians fitted without labels" in card and "## Its components" in card
    assert "The components hold some genre" in card  # read with the labels the fit never saw
    held = prior.meta["held"]  # every training clip counted once, in the component it most belongs to
    assert len(held) == 2 and all(h["clips"] >= h["tracks"] >= 1 for h in held)
    np.testing.assert_array_equal(prior.component_of(np.zeros((0, 20000), np.float32)), [])


def test_genre_in_components_reads_each_components_most_frequent_genre():
    figures = genre_in_components(np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 1]), np.array([0, 1, 2, 1]),
                                  np.array([0, 1, 1, 0]), ["blues", "jazz"])
    # component 0 is blues, 1 jazz; component 2 has no training clip: the most frequent training genre, jazz
    assert figures["accuracy"] == 0.75 and figures["base"] == 0.5
    assert figures["per_genre"] == {"blues": 0.5, "jazz": 1.0} and figures["named"] == {"blues": 1, "jazz": 1}
    assert "right for 0.75" in genre_text(figures)
    assert genre_in_components(np.array([0]), np.array([0]), np.array([], int), np.array([], int), ["blues"]) is None
    assert "not known" in genre_text(None)
