import pytest
import torch

from auralize import data as D
from auralize import robust
from auralize.checkpoint import load_model
from auralize.errors import AuralizeError
from auralize.models import ModelConfig, build_model
from auralize.training import TrainSettings, train

QUIET = dict(progress=False, log=lambda m: None)


@pytest.fixture(scope="module")
def ds(gtzan_dir):
    return D.load_dataset(gtzan_dir, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pgd", "noise", "trades"])
def test_tiny_robust_run_lowers_the_loss(ds, kind):
    settings = TrainSettings(epochs=6, batch_size=8, lr=5e-3, patience=99, robust=kind, robust_eps=0.1)
    result = train("lstm", ds, "track", hidden=8, layers=1, settings=settings, seed=0, **QUIET)
    losses = [h["loss"] for h in result.history]
    assert losses[-1] < 0.7 * losses[0], losses
    assert result.model.meta["settings"]["robust"] == kind


def _tiny_model(seed=0):
    torch.manual_seed(seed)
    return build_model(ModelConfig(kind="lstm", n_classes=3, hidden=8, layers=1))


def test_pgd_stays_in_the_ball_and_raises_the_loss():
    model = _tiny_model()
    x, y = torch.randn(4, 22, 513), torch.tensor([0, 1, 2, 0])
    eps = 0.05
    adv = robust.pgd_l2(model, x, y, eps, generator=torch.Generator().manual_seed(0))
    radius = eps * (22 * 513) ** 0.5
    assert torch.all((adv - x).flatten(1).norm(dim=1) <= radius * (1 + 1e-5))
    ce = torch.nn.functional.cross_entropy
    with torch.no_grad():
        assert ce(model(adv), y) > ce(model(x), y)
    assert all(p.grad is None for p in model.parameters())  # the attack leaves no weight gradient


def test_trades_point_stays_in_the_ball_and_moves_the_prediction():
    model = _tiny_model()
    x = torch.randn(4, 22, 513)
    eps = 0.05
    adv, clean = robust.trades_l2(model, x, eps, generator=torch.Generator().manual_seed(0))
    assert torch.all((adv - x).flatten(1).norm(dim=1) <= eps * (22 * 513) ** 0.5 * (1 + 1e-5))
    kl = lambda z: torch.nn.functional.kl_div(torch.log_softmax(model(z), 1), clean, reduction="batchmean",  # noqa: E731
                                              log_target=True)
    noise = x + eps * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert kl(adv) > kl(noise) > 0
    assert all(p.grad is None for p in model.parameters())


def test_trades_loss_is_the_clean_loss_plus_beta_kl():
    """With the model in eval mode (no dropout), the TRADES loss is the clean cross-entropy plus beta times the KL
    of its inner point; it back-propagates into the weights."""
    model = _tiny_model().eval()
    x, y = torch.randn(3, 22, 513), torch.tensor([0, 1, 2])
    ce = torch.nn.functional.cross_entropy
    loss = robust.training_loss(model, x, y, ce, "trades", 0.05, torch.Generator().manual_seed(0))
    adv, clean = robust.trades_l2(model, x, 0.05, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        kl = torch.nn.functional.kl_div(torch.log_softmax(model(adv), 1), clean, reduction="batchmean", log_target=True)
        expected = ce(model(x), y) + robust.TRADES_BETA * kl
    torch.testing.assert_close(loss.detach(), expected)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_perturbation_is_seeded_and_none_is_identity():
    model, x, y = _tiny_model(), torch.randn(2, 22, 513), torch.tensor([0, 1])
    for kind in ("noise", "pgd", "trades"):
        a = robust.perturb_batch(model, x, y, kind, 0.1, torch.Generator().manual_seed(3))
        b = robust.perturb_batch(model, x, y, kind, 0.1, torch.Generator().manual_seed(3))
        assert torch.equal(a, b) and not torch.equal(a, x)
    assert robust.perturb_batch(model, x, y, "none", 0.1, torch.Generator()) is x


@pytest.mark.parametrize("kind, eps, param", [("fgsm", 0.1, "robust"), ("pgd", float("nan"), "robust_eps"),
                                              ("pgd", -1.0, "robust_eps"), ("noise", 0.0, "robust_eps")])
def test_bad_settings_name_the_argument(ds, kind, eps, param):
    with pytest.raises(AuralizeError) as err:
        train("lstm", ds, "track", hidden=4, layers=1, settings=TrainSettings(epochs=1, robust=kind, robust_eps=eps),
              **QUIET)
    assert err.value.param == param and param in str(err.value)


def test_fine_tuning_starts_from_the_checkpoint(ds, tmp_path):
    base = train("lstm", ds, "track", hidden=8, layers=1, settings=TrainSettings(epochs=2, batch_size=8), seed=0,
                 out=tmp_path / "base.pt", **QUIET)
    # lr 1e-30 (0 is refused): fine-tuning moves nothing measurably, so the weights must be the checkpoint's
    tuned = train("lstm", ds, "track", hidden=8, layers=1, seed=0, **QUIET,
                  settings=TrainSettings(epochs=1, lr=1e-30, init_from=str(tmp_path / "base.pt"), robust="pgd",
                                         robust_eps=0.1))
    saved = load_model(tmp_path / "base.pt").state_dict()
    assert all(torch.allclose(v, saved[k], rtol=0, atol=1e-20) for k, v in tuned.model.state_dict().items())
    assert base.model is not tuned.model
    with pytest.raises(AuralizeError, match="different architecture") as err:
        train("lstm", ds, "track", hidden=4, layers=1, settings=TrainSettings(epochs=1, init_from=str(tmp_path / "base.pt")),
              **QUIET)
    assert err.value.param == "init_from"
    with pytest.raises(AuralizeError, match="other input scaling"):  # seed 1: another split, another scaler
        train("lstm", ds, "track", hidden=8, layers=1, seed=1, **QUIET,
              settings=TrainSettings(epochs=1, init_from=str(tmp_path / "base.pt")))


def test_robust_accuracy_falls_under_attack():
    model = _tiny_model()
    x = torch.randn(6, 22, 513)
    with torch.no_grad():
        y = model(x).argmax(1)  # labels the model gets right
    assert robust.robust_accuracy(model, x, y, 0.0) == 1.0
    assert robust.robust_accuracy(model, x, y, 1.0) < 1.0
