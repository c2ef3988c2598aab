"""What a job pays at start-up (issue 26): no job script's imports pull in scikit-learn (~1.2 s) or POT (~3 s), and
no notebook's imports pull in any of them or torch (~1.3 s). The jobs that fit an estimator import it when they
fit; the geometry jobs import torch through the ``*_measure`` modules (and ``natgrad_train``), not the notebooks'.

One fresh interpreter runs every import set in turn and reports, for each, which of the heavy packages are loaded
after it. The notebooks go first: torch, which most job scripts import, would otherwise already be loaded. For
scikit-learn and POT the order does not matter: no set may load them, so the first that does is the one reported.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
results = []
for name, source in json.loads(sys.argv[1]):
    exec(compile(source, name, "exec"), {})
    results.append([name, [m for m in ("torch", "sklearn", "ot") if m in sys.modules]])
print(json.dumps(results))
"""


def top_level_imports(source: str) -> str:
    """The module-level import statements of a script or a notebook cell (skipping cells Python cannot parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))


def notebook_imports(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join(top_level_imports("".join(c["source"])) for c in cells if c["cell_type"] == "code")


def test_jobs_and_notebooks_import_no_unused_heavy_package():
    notebooks = [(f"notebooks/{path.name}", notebook_imports(path))
                 for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    scripts = [(f"workflow/scripts/{path.name}", top_level_imports(path.read_text()))
               for path in sorted((ROOT / "workflow" / "scripts").glob("*.py"))]
    assert all(source for _, source in notebooks + scripts)
    result = subprocess.run([sys.executable, "-c", CHECK, json.dumps(notebooks + scripts)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=True)
    loaded = dict(json.loads(result.stdout))
    for name, _ in notebooks:
        assert loaded[name] == [], f"{name}'s imports load {loaded[name]}"
    for name, _ in scripts:
        assert not {"sklearn", "ot"} & set(loaded[name]), f"{name}'s imports load {loaded[name]}"
