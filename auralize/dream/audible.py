"""Make a genre audible, end to end: genre -> objective -> ascent -> audio -> files -> round trip.

This is what ``auralize --genre jazz`` runs. For each genre it writes, with a common stem:
``<stem>.wav`` (16-bit PCM, 4 kHz, at a listening level: :func:`listening_level`), ``<stem>-22050.wav`` (the same at 22050 Hz for players that
dislike 4 kHz), ``<stem>.npy`` (the optimised PSD, frames x 513, for ``auralize invert``),
``<stem>.png`` (its spectrogram beside a real clip of the genre, when data is given) and
``<stem>.json`` (a ``dream`` result: objective, settings, seed, objective curve and the round
trip: the WAV read back from disk, through the front end, into the same model).

Everything is checked before anything is written, and each dream's five files are written as
one unit: each goes to a temporary file first, then all are renamed into place with the JSON
last. SIGINT and SIGTERM wait while a set is written (a second or two; the first set also loads
the panel's libraries), so a WAV is never left without its JSON and PNG, and no temporary file is
left behind.
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import checks, signals
from .. import features as F
from .. import results
from ..audiomodel import label, origin, source, source_for_workers
from ..data import pick_genres
from ..errors import AuralizeError
from ..finemel import LEVEL_RMS
from ..settings import DreamSettings, Target
from .mixture_prior import MixturePrior
from .objectives import OBJECTIVE_KINDS, Objective, check_target, prior_match, uses_neurons
from .render import check_settings, render, round_trip, to_audio


def dream_stems(genres: Sequence[str], out: str | Path | None = None) -> list[Path]:
    """Where each genre's dream goes, checked before any work.

    One genre: ``out`` is the WAV path (default ``quintessential-<genre>.wav``); an existing
    folder, or a path ending in a slash, is a folder to write it into, and ``.wav`` is added to a name without it (``take1.5``
    gives ``take1.5.wav``). Several genres: ``out`` is a folder (default ``quintessential/``) of
    ``<genre>.wav`` and so on.
    """
    from ..io import ensure_writable, means_folder

    into = out is not None and means_folder(out)  # an existing folder, or "run3/" (a trailing slash)
    out = None if out is None else Path(out)
    if len(genres) == 1:
        wav = out or Path(f"quintessential-{genres[0]}.wav")
        if into:
            wav = wav / f"quintessential-{genres[0]}.wav"
        elif wav.suffix.lower() != ".wav":
            wav = wav.with_name(wav.name + ".wav")
        stems = [wav.with_name(wav.name[:-len(".wav")])]
    else:
        if out is not None and out.exists() and not out.is_dir():
            raise AuralizeError(f"out must be a folder for several genres; {out} is a file", param="out")
        folder = out or Path("quintessential")
        stems = [folder / g for g in genres]
    for stem in stems:
        for path in results.dream_files(stem).values():
            if path.is_dir():
                raise AuralizeError(f"{path} is a directory; the dream's files need that name (choose another out)",
                                    param="out")
    for folder in {stem.parent for stem in stems}:
        ensure_writable(folder)
    return stems


def real_clips(data_dir: str | Path, genres: Sequence[str]) -> dict[str, np.ndarray]:
    """One real clip per genre (the first track of the genre, its middle 5 s), drawn beside the dreams."""
    from ..data import discover

    tracks, _ = discover(data_dir)
    real = {}
    for g in genres:
        mine = [t for t in tracks if t.genre == g]
        if mine:
            try:
                clips = F.split_clips(F.load_audio(mine[0].path), str(mine[0].path))
                real[g] = clips[len(clips) // 2]
            except AuralizeError as exc:
                warnings.warn(str(exc))
    return real


def listening_level(audio: np.ndarray, rms: float = LEVEL_RMS) -> np.ndarray:
    """Each row of ``audio`` without its mean (a DC offset, which the ascent can leave at a tenth of
    the RMS: no speaker plays it and it eats headroom), scaled to ``rms`` (peaks kept <= 0.99): a
    dream's level is whatever the ascent left (the prior and the panel ignore level), often too quiet
    to hear. The round trip and the panel judge the WAV at this level."""
    audio = np.asarray(audio, np.float64)
    audio = (audio - audio.mean(axis=-1, keepdims=True)).astype(np.float32)
    level = np.sqrt(np.mean(audio.astype(np.float64) ** 2, axis=-1, keepdims=True))
    peak = np.abs(audio).max(axis=-1, keepdims=True)
    gain = np.where(level > 1e-9, np.minimum(rms / np.maximum(level, 1e-12), 0.99 / np.maximum(peak, 1e-12)), 1.0)
    return (audio * gain).astype(np.float32)


def temporal(audio: np.ndarray) -> dict[str, float]:
    """Temporal statistics of audio (mean over its 5-s clips): does it change over time as music does?"""
    from ..panel.temporal import mean_temporal_stats

    return {k: round(v, 4) for k, v in mean_temporal_stats(F.split_clips(audio)).items()}


def genre_objective(model, genre: str, target: Target = Target(), report=None, prior=None,
                    prior_weight: float = 0.0) -> Objective:
    """The objective of one genre's dream (see :class:`~auralize.settings.Target`); ``report``: neuron
    statistics; ``prior``: a loaded :class:`~auralize.dream.prior.GenrePrior`, added with ``prior_weight``.

    ``target.model_weight`` 0 leaves the model's objective out (the prior alone: the dream's control);
    the prior pulls towards ``target.prior_genre`` when given (the conflict test), else towards ``genre``.
    """
    check_target(target)
    terms = []
    if target.model_weight > 0:
        aim = OBJECTIVE_KINDS[target.objective](model, genre, target, report)
        terms.append(aim if target.model_weight == 1 else target.model_weight * aim)
    if prior is not None and prior_weight > 0:
        terms.append(prior_weight * prior_match(prior, target.prior_genre or genre, target.caricature))
    if not terms:
        raise AuralizeError("the dream has nothing to maximise: the model is off (model_weight 0) and so is the prior",
                            param="model_weight")
    return Objective.sum(terms)


def _prior_for(target: Target, param, genres: Sequence[str]):
    """The prior's weight, the loaded prior (``None`` when off) and the genres it covers.

    A prior asked for explicitly (a weight, a name or a file) must be there and serve every genre; the
    default one, when missing or without a genre, is left out with a warning, so the dream is still made.
    ``prior_weight`` ``None`` is the prior's own default weight for a parameterisation that holds audio,
    and 0 for the spectrogram one (the prior reads audio).
    """
    from .params import get_param
    from .priors import load_prior

    has_audio = get_param(param).has_audio
    if target.prior is not None and not has_audio and target.prior_weight != 0:  # never ignored silently
        raise AuralizeError(f"the prior {target.prior} reads the dream's audio, which the {get_param(param).name} "
                            "parameterisation does not hold: use --param fine or waveform, or leave out --prior",
                            param="prior")
    if target.prior_weight == 0 or (target.prior_weight is None and not has_audio):
        return 0.0, None, []
    if not has_audio:
        raise AuralizeError(f"the prior reads the dream's audio, which the {get_param(param).name} parameterisation "
                            "does not hold: use --param fine or waveform, or --prior-weight 0", param="prior_weight")
    explicit = target.prior_weight is not None or target.prior is not None
    try:
        prior = load_prior(target.prior)
    except AuralizeError as exc:
        if explicit:
            raise
        warnings.warn(f"dreaming without the prior: {exc}")
        return 0.0, None, []
    weight = prior.default_weight if target.prior_weight is None else target.prior_weight
    if target.prior_genre is not None:
        if not prior.genre_aware:
            raise AuralizeError("prior_genre names a genre for the prior to pull to, but this prior is genre-blind: "
                                "give the genre prior as well (--prior genre)", param="prior_genre")
        if target.prior_genre not in prior.covers(prior.genres):
            raise AuralizeError(f"prior_genre {target.prior_genre!r} is not a genre the prior has clips of (it has "
                                f"{', '.join(prior.covers(prior.genres))})", param="prior_genre")
        return weight, prior, list(genres)  # every dream is pulled to that one genre
    covered = prior.covers(genres)
    missing = [g for g in genres if g not in covered]
    if missing:
        if explicit:
            prior.index(missing[0])  # raises, naming the genre
        warnings.warn(f"the genre prior has no clips of {', '.join(missing)}; those dreams are made without it")
    return weight, prior, covered


class _Prefetch:
    """Loads the panel's judges and imports what writing a dream needs (its libraries, pyplot) in a thread.

    The ascent runs on one thread (:mod:`auralize.threads`) in torch's kernels, which release the
    interpreter, so on a machine with a second core these seconds of start-up overlap the dream instead
    of following it. Nothing here draws a random number, so the dreams are unchanged.
    """

    def __init__(self, panel: bool) -> None:
        import threading

        self._judges, self._panel = None, panel
        self._thread = threading.Thread(target=self._work, daemon=True, name="auralize-prefetch")
        self._thread.start()

    def _work(self) -> None:
        try:
            from ..panel.temporal import temporal_stats
            from ..plots import pyplot

            pyplot()
            warm = np.full(F.CLIP_SAMPLES, 1e-3, np.float32)
            F.spectrogram(warm)  # scipy.signal, for the dream's paper-grid spectrogram (.npy)
            temporal_stats(warm)  # librosa's onset code, for the figure's temporal statistics
            if self._panel:
                from ..panel.handmade import clip_features

                clip_features(warm)  # librosa's features compile their numba code on first use
        except Exception:  # noqa: BLE001 (the main thread meets any failure again, and reports it)
            pass

    def __enter__(self) -> "_Prefetch":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        # Interrupted: let the thread finish before the exception ends the process. A daemon thread still
        # inside numba's compiler when the interpreter shuts down aborts it ("terminate called without an
        # active exception" on stderr, after the one-line message).
        if kind is not None:
            self._thread.join(timeout=60)

    def judges(self) -> list | None:
        """The panel's judges (``None`` when not asked for or missing), once the thread is done."""
        self._thread.join()
        return load_panel() if self._panel else None


def load_panel() -> list | None:
    """The held-out listening panel's judges, or ``None`` (with a warning) when they are not there."""
    from ..panel import PANEL, load_judge

    try:
        return [load_judge(name) for name in PANEL]
    except AuralizeError as exc:
        warnings.warn(f"no panel verdict for the dreams: {exc}")
        return None


def genre_from(target: Target, prior, prior_weight: float) -> str:
    """What the genre of a dream made with these settings comes from, in a few words (JSON, figure, gallery)."""
    model = target.model_weight > 0
    if prior is None or prior_weight <= 0:
        return "the model alone (no prior)"
    if not prior.genre_aware:
        return ("the model (the prior is genre-blind: it knows music, not genres)" if model else
                "nothing: the genre-blind prior alone, without the model (a control)")
    whose = target.prior_genre or "the genre"
    return (f"the genre prior and the model: the texture of real clips of {whose}, accepted by the model" if model
            else f"the genre prior alone (the texture of real clips of {whose}), without the model: a control")


@dataclass
class _Dream:
    """One rendered dream, ready to be written."""

    genre: str
    stem: Path
    audio: np.ndarray
    psd: np.ndarray
    description: str
    curve: np.ndarray


def _write_dream(model, dream: _Dream, settings: dict, real: np.ndarray | None, judges: list | None,
                 extra: dict) -> dict:
    """Write one dream's files as a unit (see the module docstring); returns its summary.

    ``extra`` goes into the summary as it is (what the genre comes from; which song it started from; its
    control and the model's share).
    """
    from ..io import atomic_path, atomic_save_npy, save_wav
    from ..plots import dream_figure

    files, genre = results.dream_files(dream.stem), dream.genre
    # Signals wait until this dream's set is written (a second or two), so a set is whole or absent.
    # Not only the renames: an interrupt inside the C code this work runs (soundfile, numba, an
    # import) can crash the process before any clean-up, and that leaves temporary files behind.
    with signals.held(), contextlib.ExitStack() as stack:
        # Entered JSON first, so the stack renames it last: a JSON means the set is complete.
        tmp = {k: stack.enter_context(atomic_path(files[k])) for k in ("json", "png", "spectrogram", "wav_22050",
                                                                        "wav")}
        save_wav(tmp["wav"], dream.audio, F.SAMPLE_RATE)
        save_wav(tmp["wav_22050"], F.resample(dream.audio, F.SAMPLE_RATE, 22050), 22050)
        atomic_save_npy(tmp["spectrogram"], dream.psd.astype(np.float32))
        heard = F.load_audio(tmp["wav"])  # the file as written, read back
        trip = round_trip(model, heard, genre)
        panel = None
        if judges:
            from ..panel.verdict import panel_verdict

            panel = panel_verdict(str(files["wav"]), F.split_clips(heard), judges, genre).to_dict()
        for key, share in (("control", "model_share"), ("component_control", "model_share_beyond_component")):
            control = extra.get(key)
            if control is not None and panel is not None and control.get("panel") is not None:
                extra = {**extra, share: round(panel["p_target"] - control["panel"]["p_target"], 4)}
        time_stats = {"dream": temporal(heard), **({"real": temporal(real)} if real is not None else {})}
        dream_figure(dream.psd, genre, tmp["png"], dream.description, trip, None if real is None else F.spectrogram(real),
                     panel, time_stats, extra)
        summary = {
            "genre": genre, "checkpoint": source(model), "model": label(model),
            "objective": dream.description, "settings": settings,
            "objective_start": float(dream.curve[0]), "objective_end": float(dream.curve[-1]),
            "objective_curve": [round(float(v), 5) for v in dream.curve],
            "round_trip": trip, "temporal": time_stats,
            "files": {k: str(v) for k, v in files.items() if k != "json"},
        }
        if panel is not None:
            summary["panel"] = panel
        summary.update(extra)
        results.write(tmp["json"], "dream", summary)
    return summary


#: A dream's controls (``--control``): name -> what its files add to the dream's stem.
CONTROLS = {"noise": "-control", "component": "-component-control"}


def control_stem(stem: Path, kind: str = "noise") -> Path:
    """The stem of a dream's control (:data:`CONTROLS`): the prior alone from noise, ``<stem>-control``, or at the
    mixture component the dream ends in, ``<stem>-component-control``."""
    return stem.with_name(stem.name + CONTROLS[kind])


@dataclass
class _AtComponents:
    """The prior alone at the components dreams end in: one render per component, shared by its dreams."""

    components: np.ndarray  # (dreams,) the component each dream's audio most belongs to
    index: list[int]  # per dream, its component's row in result and audio
    result: object  # DreamResult
    audio: np.ndarray
    psd: np.ndarray


def component_controls(model, prior, weight: float, audio: np.ndarray, genre: str, off: Target, report,
                       settings: DreamSettings, progress: bool = False) -> _AtComponents:
    """The prior alone (``off``: the model's weight 0) at the mixture component each dream of ``audio`` ``(dreams,
    samples)`` ends in, with the dreams' own seed and settings: what the genre of a dream would be if the model had
    only chosen its kind of music. A dream longer than one clip ends in the component most of its clips do."""
    clips = [F.split_clips(a) for a in audio]
    ends = prior.component_of(np.concatenate(clips))
    bounds = np.cumsum([0] + [len(c) for c in clips])
    components = np.array([np.bincount(ends[a:b]).argmax() for a, b in zip(bounds[:-1], bounds[1:])])
    places = list(dict.fromkeys(int(k) for k in components))
    objectives = [genre_objective(model, genre, off, report, prior.component(k), weight) for k in places]
    result = render(model, objectives, settings, progress=progress)
    made = listening_level(to_audio(result, n_iter=settings.griffin_lim_iters, seed=settings.seed))
    return _AtComponents(components, [places.index(int(k)) for k in components], result, made, result.psd())


def _in_workers(model, names: list[str], stems: list[Path], jobs: int, progress: bool, options: dict) -> list[dict]:
    """:func:`make_audible` of the genres in contiguous shares, one worker process each
    (:func:`auralize.workers.in_workers`); the summaries in the genres' order."""
    from ..workers import in_workers

    where = source_for_workers(model)
    shares = [list(ids) for ids in np.array_split(np.arange(len(names)), min(jobs, len(names)))]
    # a share of one genre names its WAV; of several, the folder they all go into
    tasks = [(where, [names[i] for i in ids], str(stems[ids[0]]) + ".wav" if len(ids) == 1 else str(stems[0].parent),
              options) for ids in shares]
    if progress:
        print(f"dreaming {len(names)} genres in {len(tasks)} worker processes...", file=sys.stderr, flush=True)
    return [summary for summaries in in_workers(_dream_share, tasks, len(tasks)) for summary in summaries]


def _dream_share(task) -> list[dict]:
    where, genres, out, options = task
    return make_audible(where, genres, out, **options)


def make_audible(model, genres: str | Sequence[str], out: str | Path | None = None, *,
                 target: Target = Target(), settings: DreamSettings = DreamSettings(), report=None,
                 data_dir: str | Path | None = None, panel: bool = True, control: bool = False,
                 progress: bool = False, jobs: int | str = 1) -> list[dict]:
    """Dream genres and write each one's files; returns one summary (the JSON's content) per genre.

    Parameters
    ----------
    model : AudioModel, str, Path or None
        A loaded model, a checkpoint path or ``my_model.py:build`` (:func:`~auralize.checkpoint.load_model`),
        or ``None`` for the shipped dreaming model (:data:`auralize.DREAMING_MODEL`).
    genres : str or sequence of str
        A genre, ``all``, or a list of genres.
    out : str or Path, optional
        WAV path for one genre, folder for several (see :func:`dream_stems`).
    target, settings : Target, DreamSettings
        What to maximise and how (:class:`~auralize.settings.Target`, :class:`~auralize.settings.DreamSettings`).
    report : NeuronReport, optional
        Neuron statistics for the neuron objective (default: those saved beside the model).
    data_dir : str or Path, optional
        A data folder; a real clip of each genre is drawn beside its dream.
    panel : bool
        Judge each dream (the WAV as written, read back) with the held-out listening panel
        (:data:`auralize.panel.PANEL`), whose models no dream is optimised against.
    control : bool
        Also make each dream's prior-only control (the same seed and settings, the model's objective
        off), written as ``<stem>-control``; each dream then records the model's share: the panel's
        p(genre) of the dream minus that of its control. With a mixture prior, also the prior alone at the
        component the dream ends in (:func:`component_controls`), ``<stem>-component-control``, and the
        model's share beyond that kind of music.
    progress : bool
        Show a progress bar.
    jobs : int or "auto"
        Worker processes that share the genres (each dream is its own ascent with its own generator,
        so the files are those of one process); the model must then come from a file. ``"auto"``: one per
        core, at most 4 and never more than the genres (:func:`auralize.workers.resolve_jobs`).

    Returns
    -------
    list of dict
        Per genre, the content of its ``dream`` result (the JSON).

    Examples
    --------
    >>> import auralize
    >>> [s["genre"] for s in auralize.make_audible(None, "jazz", "/tmp/jazz.wav", panel=False,
    ...                                             settings=auralize.DreamSettings(steps=2))]
    ['jazz']
    """
    from ..checkpoint import load_model
    from ..io import refuse_overwriting
    from ..neurons import load_report

    check_target(target)
    check_settings(settings)
    if model is None or isinstance(model, (str, Path)):
        from .. import DREAMING_MODEL, default_checkpoint

        model = load_model(model or default_checkpoint(DREAMING_MODEL))
    names = pick_genres(genres, model.genres)
    start = settings.start()  # a missing, unreadable or silent song fails here, before any folder is made
    stems = dream_stems(names, out)
    refuse_overwriting([f for stem in stems for f in results.dream_files(stem).values()]
                       + [f for stem in stems for kind in CONTROLS if control
                          for f in results.dream_files(control_stem(stem, kind)).values()],
                       {"init": settings.init if isinstance(settings.init, (str, Path)) else None,
                        "checkpoint": origin(model), "prior": target.prior})
    if report is None and uses_neurons(target.objective) and target.unit is None and target.model_weight > 0:
        report = load_report(model, target.layer)
    from ..workers import resolve_jobs

    jobs = resolve_jobs(jobs, len(names)) if jobs != "auto" or source(model) else 1  # auto: a model in memory stays
    weight, prior, covered = _prior_for(target, settings.param, names)
    if target.prior_sample:  # never ignored silently
        if prior is None or prior.genre_aware:
            raise AuralizeError("prior_sample draws a texture from the genre-blind music prior, and this dream has "
                                + ("a genre prior" if prior is not None else "no prior")
                                + ": use --prior music with a prior weight > 0, or leave out --prior-sample",
                                param="prior_sample")
        prior = prior.drawn(settings.seed)
    if control and (prior is None or target.model_weight == 0):
        raise AuralizeError("control is the same dream without the model, so it needs a dream with both a model and a "
                            "prior (prior_weight > 0, model_weight > 0)", param="control")
    off = replace(target, model_weight=0.0)
    objectives = [genre_objective(model, g, target, report, prior, weight if g in covered else 0.0) for g in names]
    # The prior alone pulls every genre a genre-blind prior serves to one place (and a genre prior to each
    # genre's, or to prior_genre's): one control ascent per place, shared by the genres that pull there.
    place = {g: (target.prior_genre or g) if control and prior.genre_aware else None for g in names}
    places = list(dict.fromkeys(place.values())) if control else []
    for p in places:
        g = next(h for h in names if place[h] == p)
        objectives.append(genre_objective(model, g, off, report, prior, weight if g in covered else 0.0))
    real = real_clips(data_dir, names) if data_dir else {}
    if jobs > 1:  # after every check above, so that bad settings are one line before any worker starts
        return _in_workers(model, names, stems, jobs, progress, dict(target=target, settings=settings, report=report,
                                                                    data_dir=data_dir, panel=panel, control=control))
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)  # no silent minute
    if panel:
        say("loading the held-out listening panel (while the dreams are made)...")
    # what writing and judging need, on the core the ascent leaves idle
    with signals.terminate_as_interrupt(), _Prefetch(panel) as ready:
        result = render(model, objectives, replace(settings, init=start), progress=progress)
        say(f"making the audio ({settings.griffin_lim_iters} Griffin-Lim iterations), then writing each dream"
            + (" and judging it with the panel (the first run also compiles the panel's feature code)" if panel else ""))
        audio = listening_level(to_audio(result, n_iter=settings.griffin_lim_iters, seed=settings.seed))
        at = (component_controls(model, prior, weight, audio[:len(names)], names[0], off, report,
                                 replace(settings, init=start), progress)
              if control and isinstance(prior, MixturePrior) and len(prior.weights) > 1 else None)
        judges = ready.judges()
        psd = result.psd()
        recorded = {**settings.to_json(), **result.settings, "prior_weight": weight, "caricature": target.caricature,
                    "level_rms": LEVEL_RMS,
                    "prior": str(prior.meta.get("path", "")) if prior is not None else None,
                    **({} if target.model_weight == 1 and target.prior_genre is None else
                       {"model_weight": target.model_weight, "prior_genre": target.prior_genre}),
                    **({"prior_sample": True} if target.prior_sample else {})}
        init = settings.init_record()
        dreams = [_Dream(g, st, audio[b], psd[b], result.descriptions[b], result.curve[:, b])
                  for b, (g, st) in enumerate(zip(names, stems))]
        summaries = []
        for b, genre in enumerate(names):
            extra = {"genre_from": genre_from(target, prior, weight if genre in covered else 0.0),
                     **({"init": init} if init is not None else {})}  # which song it started from: path and hash
            if control:
                c = len(names) + places.index(place[genre])
                ctrl = _Dream(genre, control_stem(stems[b]), audio[c], psd[c], result.descriptions[c],
                              result.curve[:, c])
                made = _write_dream(model, ctrl, {**recorded, "model_weight": 0.0}, real.get(genre), judges,
                                    {**extra, "role": "control", "genre_from": genre_from(off, prior, weight),
                                     "control_of": results.dream_files(stems[b])["json"].name})
                extra["control"] = {k: made[k] for k in ("files", "round_trip", "panel") if k in made}
            if at is not None:
                k, c = int(at.components[b]), at.index[b]
                ctrl = _Dream(genre, control_stem(stems[b], "component"), at.audio[c], at.psd[c],
                              at.result.descriptions[c], at.result.curve[:, c])
                own = {key: v for key, v in extra.items() if key != "control"}  # the noise control is the dream's
                made = _write_dream(model, ctrl, {**recorded, "model_weight": 0.0, "prior_component": k},
                                    real.get(genre), judges,
                                    {**own, "role": "component-control",
                                     "control_of": results.dream_files(stems[b])["json"].name,
                                     "genre_from": f"nothing: the prior alone at component {k}, the kind of music its "
                                                   "dream ends in (a control)"})
                extra["component_control"] = {"component": k, **{key: made[key] for key in ("files", "round_trip",
                                                                                            "panel") if key in made}}
            summaries.append(_write_dream(model, dreams[b], recorded, real.get(genre), judges, extra))
        return summaries
