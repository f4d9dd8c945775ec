"""The committed lock (requirements.lock) is what `make setup` installs: it must agree with pyproject.toml.

pyproject.toml keeps compatible ranges for people who install exhorto as a library; the lock pins the one tested
set. The two disagree when a dependency is added, removed or re-ranged in pyproject.toml without `make lock`, or
when the lock was edited by hand; these tests say which package and how. The lock is a committed file, so it
must name packages and versions only: no index URL, host or machine path.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*$")
DIRECT = "exhorto (pyproject.toml)"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared() -> list[Requirement]:
    project = _pyproject()
    specs = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["test"],
        *project["build-system"]["requires"],
    ]
    return [Requirement(spec) for spec in specs]


def _lock_lines() -> list[str]:
    return LOCK.read_text(encoding="utf-8").splitlines()


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in _lock_lines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def _locked_as_direct() -> set[str]:
    """Packages the lock says were asked for by pyproject.toml itself (pip-compile's `# via` notes)."""
    direct: set[str] = set()
    current: str | None = None
    for line in _lock_lines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
        elif current and DIRECT in line:
            direct.add(current)
    return direct


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    problems = []
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement}: not in requirements.lock")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{requirement}: the lock pins {pins[name]}")
    assert not problems, "pyproject.toml and requirements.lock disagree (run `make lock`):\n" + "\n".join(problems)


def test_the_lock_asks_for_nothing_pyproject_does_not() -> None:
    declared = {canonicalize_name(r.name) for r in _declared()}
    stale = sorted(_locked_as_direct() - declared)
    assert not stale, f"requirements.lock still lists as direct dependencies {stale} (run `make lock`)"


def test_every_line_is_a_pin_or_a_comment() -> None:
    # An option line (--index-url, --find-links, -e, a URL or a path) would tie the lock to one machine or host.
    others = [
        line
        for line in _lock_lines()
        if line.strip() and not line.lstrip().startswith("#") and not PIN.match(line)
    ]
    assert not others, f"requirements.lock holds lines that are not `name==version`: {others}"
    text = LOCK.read_text(encoding="utf-8")
    for marker in ("://", "file:", "/opt/", "/home/", "/root/", "/work/", "--index", "--find-links", "--trusted"):
        assert marker not in text, f"requirements.lock names an index, host or path ({marker!r})"


def test_the_lock_is_complete_for_what_is_installed() -> None:
    # Every distribution that the installed exhorto needs at run time resolves to a pinned one.
    from importlib.metadata import PackageNotFoundError, distribution

    pins = _pins()
    missing = []
    seen: set[str] = set()
    queue = [Requirement(spec) for spec in distribution("exhorto").requires or []]
    while queue:
        requirement = queue.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": "test"}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        if name not in pins:
            missing.append(name)
            continue
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for spec in requires:
            child = Requirement(spec)
            for extra in requirement.extras or {""}:
                if not child.marker or child.marker.evaluate({"extra": extra}):
                    queue.append(child)
                    break
    assert not missing, f"installed, needed, but not pinned in requirements.lock: {sorted(missing)}"
