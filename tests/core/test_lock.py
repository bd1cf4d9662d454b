"""The lock files CI and the Docker image install from stay in step with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _locked(lock: str) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)", (REPO / "requirements" / lock).read_text(), re.M)
    return {_name(name): version for name, version in pins}


@pytest.mark.parametrize(("lock", "extras"), [("run.lock", ()), ("test.lock", ("test",))])
def test_every_dependency_is_pinned_with_hashes(lock: str, extras: tuple[str, ...]) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + [r for e in extras for r in project["optional-dependencies"][e]]
    locked = _locked(lock)
    missing = sorted({_name(r) for r in wanted} - set(locked))
    assert not missing, f"not in requirements/{lock}: {missing}; see README, 'Dependencies'"
    text = (REPO / "requirements" / lock).read_text()
    assert text.count("==") == len(locked) and text.count("--hash=sha256:") >= len(locked)  # every pin hashed
