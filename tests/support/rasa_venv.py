"""Code that must run in Rasa's own Python (`$RASA_VENV`, default `.venv-rasa`: Rasa, its patches, our NLU
components): a script run there whose last line of output is JSON. A missing Rasa venv fails the calling test —
that is a broken setup (`make -f mk/rasa.mk rasa-venv`), not a reason to skip."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from tests.support.services import ROOT

RASA_PYTHON = ROOT / os.environ.get("RASA_VENV", ".venv-rasa") / "bin" / "python"


def run_in_rasa_venv(script: str, *args: str) -> Any:
    """Run `script` with `args` in Rasa's Python from the repository root; what its last output line says, as JSON."""
    assert RASA_PYTHON.exists(), f"no Rasa venv at {RASA_PYTHON}: make -f mk/rasa.mk rasa-venv"
    done = subprocess.run(  # noqa: S603
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
