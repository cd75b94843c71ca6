"""The Examples sections of the public entry points run as written (doctest)."""
import doctest

import pytest

import auralize


@pytest.mark.parametrize("name", ["wrap", "Registry", "DreamSettings", "render", "load_model", "predict", "make_audible"])
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    obj = getattr(auralize, name)
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(obj, name, globs={"auralize": auralize}) if t.examples]
    assert tests, f"{name} has no Examples section"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{name}'s examples fail (see the output above)"
