"""The generated message modules are up to date, and generated from the right schemas.

`python/trio_csms/messages/` is written by `tools/gen_messages.py` and must never be edited by
hand: a hand edit, or a generator change without a regeneration, is caught here by running the
generator in `--check` mode.

The generator reads the schemas of the `ocpp` PyPI package rather than the OCA download (which
may not be redistributed). The second test proves the two are the same schemas: equal once the
`$id`s and descriptions are set aside and the generator's OCA_CORRECTIONS are applied, and every
correction is needed (the package has the value it expects to correct, the OCA file the value
it corrects to).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import ocpp
import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "tools" / "gen_messages.py"
PACKAGE_SCHEMAS = Path(ocpp.__file__).parent / "v201" / "schemas"
OCA_SCHEMAS = ROOT.parent / "shared" / "ocpp" / "spec" / "schemas"
IGNORED_KEYWORDS = {"$id", "description"}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_messages", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def load_schemas(directory: Path) -> dict[str, Any]:
    # utf-8-sig: tolerate a byte-order mark, which schema downloads sometimes carry
    return {p.name: json.loads(p.read_text(encoding="utf-8-sig")) for p in directory.glob("*.json")}


def without_annotations(node: Any) -> Any:
    """`node` without `$id` and `description` keywords. Property and definition *names* are kept,
    even a property that happened to be called "description"."""
    if isinstance(node, list):
        return [without_annotations(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "definitions"):
            out[key] = {name: without_annotations(sub) for name, sub in value.items()}
        elif key not in IGNORED_KEYWORDS:
            out[key] = without_annotations(value)
    return out


def test_generated_modules_are_fresh() -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        "python/trio_csms/messages is stale; run `python tools/gen_messages.py`\n"
        f"{done.stdout}{done.stderr}"
    )


@pytest.mark.skipif(not OCA_SCHEMAS.is_dir(), reason=f"no OCA schema download at {OCA_SCHEMAS}")
def test_package_schemas_equal_the_oca_originals_up_to_ids_descriptions_and_corrections() -> None:
    package, oca = load_schemas(PACKAGE_SCHEMAS), load_schemas(OCA_SCHEMAS)
    assert set(package) == set(oca)
    assert len(oca) == 128

    corrections = load_generator().OCA_CORRECTIONS
    assert corrections, "expected at least the exiResponse correction"
    for file, pointer, attribute, theirs, ours in corrections:
        package_node, oca_node = package[file], oca[file]
        for step in pointer:
            package_node, oca_node = package_node[step], oca_node[step]
        assert package_node[attribute] == theirs, f"{file}: the package no longer has {theirs}"
        assert oca_node[attribute] == ours, f"{file}: the OCA original does not have {ours}"
        package_node[attribute] = ours

    differing = sorted(
        name for name in oca if without_annotations(package[name]) != without_annotations(oca[name])
    )
    assert not differing, f"package schemas differ from the OCA originals: {differing}"
