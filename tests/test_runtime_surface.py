"""The runtime's public surface and its dependency boundary."""

from __future__ import annotations

import subprocess
import sys

import runtime


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(runtime).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("runtime")
    }
    assert set(runtime.__all__) == public
    assert len(set(runtime.__all__)) == len(runtime.__all__)


def test_runtime_and_generated_code_import_no_generator_dependencies() -> None:
    code = (
        "import sys, runtime, generated.music, generated.shop\n"
        "banned = {'generator', 'jinja2', 'black', 'pydantic', 'yaml'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
