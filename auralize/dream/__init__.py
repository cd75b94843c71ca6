"""Dreams: gradient ascent on a model's input, after Lucid's ``optvis``.

- :mod:`.objectives`: what to maximise (:class:`Objective`, neurons, classes, penalties);
- :mod:`.params`: what is optimised (:data:`PARAMS`: spectrogram, waveform, fine);
- :mod:`.prior`, :mod:`.music_prior`, :mod:`.mixture_prior`, :mod:`.priors`: statistics of real music a dream
  is pulled towards (:class:`GenrePrior`, :class:`MusicPrior`, :class:`MixturePrior`) and their registry;
- :mod:`.transforms`: random, seeded changes at every step (:data:`TRANSFORMS`);
- :mod:`.render`: the loop (:func:`render`), and audio of its result (:func:`to_audio`);
- :mod:`.audible`: a genre to files, end to end (:func:`make_audible`).
"""
from ..settings import DreamSettings, Target
from .audible import dream_stems, genre_objective, make_audible, pick_genres, real_clips
from .objectives import (OBJECTIVE_KINDS, Context, Objective, check_target, class_logit, class_logodds, class_logprob,
                         l2, neuron, out_of_range, prior_match, register_objective, regulariser, tv_freq, tv_time)
from .mixture_prior import MixturePrior, fit_mixture_prior
from .music_prior import MusicPrior, fit_music_prior
from .prior import STATISTICS, GenrePrior, fit_prior, register_statistic
from .priors import PRIORS, load_prior, train_prior
from .params import PARAMS, FineParam, Param, SpectrogramParam, WaveformParam, get_param, register_param
from .render import DreamResult, check_settings, n_frames, render, round_trip, to_audio
from .transforms import (TRANSFORMS, Compose, Dither, FreqMask, FreqShift, Gain, InputNoise, Jitter, Noise, Shift,
                         TimeMask, from_names, register_transform)

__all__ = [
    "OBJECTIVE_KINDS", "register_objective", "Compose", "Context", "Dither", "DreamResult", "DreamSettings", "FineParam", "GenrePrior", "STATISTICS",
    "fit_prior", "fit_music_prior", "MusicPrior", "fit_mixture_prior", "MixturePrior", "PRIORS", "load_prior", "prior_match", "register_statistic", "train_prior",
    "FreqMask", "FreqShift", "Gain", "InputNoise",
    "Jitter", "Noise", "Objective", "PARAMS", "Param", "Shift", "SpectrogramParam", "TRANSFORMS", "Target",
    "TimeMask", "WaveformParam", "check_settings", "check_target", "class_logit", "class_logodds", "class_logprob", "dream_stems", "from_names", "genre_objective",
    "get_param", "l2", "make_audible", "n_frames", "neuron", "out_of_range", "pick_genres", "real_clips",
    "register_param", "register_transform", "regulariser", "render", "round_trip", "to_audio", "tv_freq", "tv_time",
]
