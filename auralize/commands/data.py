"""Commands about data: ``cache`` (the feature store a collection larger than memory is read from)."""
from __future__ import annotations

from pathlib import Path

import click

from ..cli_options import DATA, JOBS, LABELS, NO_RANDOMNESS_SEED, QUIET, echo_warnings


@click.command("cache")
@DATA
@LABELS
@click.option("--store", type=click.Path(path_type=Path), default=None,
              help="Store folder (default: <cache dir>/stores/<data folder name>-<hash>).")
@JOBS
@NO_RANDOMNESS_SEED
@QUIET
def cache_cmd(data_dir, labels, store, jobs, quiet):
    """Write the collection's model inputs to a feature store: memory-mapped shards and their index.

    Resumable (a rerun keeps every complete shard whose files are unchanged and whose checksum holds),
    parallel over shards (--jobs), and it reuses the feature cache's checked entries. Train, evaluate
    and neurons then read it lazily with --data STORE.
    """
    from ..data import load_dataset
    from ..store import build_store

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    with echo_warnings():
        folder = build_store(data_dir, store, labels=labels, jobs=jobs, progress=not quiet, log=log)
        data = load_dataset(folder)
    click.echo(data.summary())
    click.echo(f"store: {folder} ({len(data.label)} clips, {len(data.psd.shards)} shards); read it with --data {folder}")
