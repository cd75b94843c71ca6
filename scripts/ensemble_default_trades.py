"""A dreaming model for the dream study (issue 14): the mean of the log-probabilities of the shipped dreaming model
(``trained/cnn-mel.pt``, PGD eps 0.1) and the same recipe trained with TRADES (eps 0.15,
``trained/cnn-mel-trades.pt``). A dream through it must be heard as the genre by both.

    auralize --genre all --control --checkpoint scripts/ensemble_default_trades.py:build
"""
from pathlib import Path

import auralize

ROOT = Path(__file__).resolve().parents[1]
TRADES = ROOT / "trained" / "cnn-mel-trades.pt"


def build():
    """The ensemble (mean of log-probabilities) of trained/cnn-mel.pt and the study's TRADES model."""
    if not TRADES.is_file():
        raise auralize.AuralizeError(f"{TRADES} not found; it is shipped in the repository's trained/ (see its card)")
    return auralize.ensemble([auralize.load_model(ROOT / "trained" / "cnn-mel.pt"), auralize.load_model(TRADES)],
                             name="ensemble of cnn-mel (PGD 0.1) and cnn-mel TRADES 0.15")
