import subprocess
import sys
from pathlib import Path

LAYERS = Path(__file__).resolve().parents[2] / "layers"


def test_settling_freezes_the_imports_and_raises_the_threshold_once():
    code = (
        "import gc, sys; sys.path.insert(0, sys.argv[1]);"
        "from citybrain.core import collector;"
        "before = gc.get_threshold();"
        "collector.settle(); frozen = gc.get_freeze_count(); after = gc.get_threshold();"
        "collector.settle();"
        "print(before[0], after[0], after[1:] == before[1:], frozen > 0, gc.get_freeze_count() == frozen)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(LAYERS)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["700", "50000", "True", "True", "True"]
