"""The example notebook runs: its code cells, in order, in one namespace (no Jupyter kernel needed)."""
import json
from pathlib import Path

import pytest


NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "explain_a_song.ipynb"


def code_cells(path):
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def run(cells, namespace):
    """Execute cells like a kernel: the last line's value, if an expression, is the cell's output."""
    import ast

    outputs = []
    for i, source in enumerate(cells):
        tree = ast.parse(source, f"<cell {i}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {i}>", "exec"), namespace)
        outputs.append(eval(compile(ast.Expression(last.value), f"<cell {i}>", "eval"), namespace) if last else None)
    return outputs


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")  # no audio in the repo


@pytest.mark.slow
def test_example_notebook_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GTZAN", str(tmp_path / "no-data"))  # the synthetic song, on any machine
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    outputs = run(code_cells(NOTEBOOK), namespace)
    source = "\n".join(code_cells(NOTEBOOK))
    assert "auralize." in source and "._" not in source  # public names only
    exp = namespace["explanation"]
    assert outputs[1] == ("synthetic.wav", 15.0)
    assert outputs[2] is exp and exp.attributions.shape == (3, 22, 513)
    page = exp._repr_html_()
    assert "<audio controls" in page and '<img alt="explanation figure"' in page
    printed = capsys.readouterr().out
    assert printed.count("clip ") == 3 and f"verdict: {exp.verdict}" in printed
    assert outputs[4] == ["attributions.npy", "explain.json", "explain.png", "listened-22050.wav", "listened.wav"]

