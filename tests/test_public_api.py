"""The README's Python section and the examples use only public names; ``import auralize`` stays cheap."""
import json
import re
import subprocess
import sys
from pathlib import Path

import auralize

REPO = Path(__file__).resolve().parents[1]


def _code_of_examples() -> dict[str, str]:
    code = {p.name: p.read_text() for p in sorted((REPO / "examples").glob("*.py"))}
    for nb in sorted((REPO / "examples").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        code[nb.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return code


def _readme_python() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S))


def _names_used(code: str) -> set[str]:
    attrs = set(re.findall(r"\bauralize\.([A-Za-z_]\w*)", code))
    for wrapped, line in re.findall(r"from auralize import (?:\(([^)]*)\)|([^\n]*))", code):
        attrs |= {n.strip() for n in (wrapped or line).split(",") if n.strip()}
    return attrs


def test_readme_python_uses_only_public_names():
    code = _readme_python()
    assert "import auralize" in code
    assert not re.search(r"from auralize\.\w+ import|import auralize\.\w+", code), code
    private = _names_used(code) - set(auralize.__all__)
    assert not private, f"README uses names outside auralize.__all__: {sorted(private)}"


def test_examples_import_only_public_names():
    for name, code in _code_of_examples().items():
        assert not re.search(r"from auralize\.\w+ import|import auralize\.\w+", code), name
        private = _names_used(code) - set(auralize.__all__)
        assert not private, f"{name} uses names outside auralize.__all__: {sorted(private)}"


def test_every_public_name_resolves():
    for name in auralize.__all__:
        assert getattr(auralize, name) is not None, name


def test_import_is_cheap():
    probe = "import sys, auralize, auralize.cli; print(sorted(m for m in ('torch', 'scipy.signal', 'librosa', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[]", out
