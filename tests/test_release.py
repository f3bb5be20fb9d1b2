"""One version for the module and the CLI, defined in VERSION, and everything that names it in step."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import yaml

from test_readme_examples import REGISTRY_SOURCE, USAGE_BLOCKS
from harness.tfcli import REPO_ROOT

VERSION = (REPO_ROOT / "VERSION").read_text().strip()
CHANGELOG = (REPO_ROOT / "CHANGELOG.md").read_text()


def test_version_is_semver() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION


def test_the_package_takes_its_version_from_the_file() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"file": "VERSION"}
    assert version("approved-amis") == VERSION, "reinstall the package (make venv) after changing VERSION"


def test_the_cli_reports_the_version() -> None:
    from approved_amis import __version__

    assert __version__ == VERSION


def test_changelog_latest_release_is_the_version() -> None:
    """Keep a Changelog: an Unreleased section first, then releases newest first, each with its link."""
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", CHANGELOG, flags=re.MULTILINE)
    assert headings[0] == ("Unreleased", "")
    assert headings[1] == (VERSION, headings[1][1]) and headings[1][1], headings[1]
    for name, _ in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", CHANGELOG, flags=re.MULTILINE), f"no link for {name}"


def test_readme_usage_pins_the_version() -> None:
    pins = []
    for block in USAGE_BLOCKS:
        sources = re.findall(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE)
        versions = re.findall(r'^\s*version\s*=\s*"([^"]+)"', block, flags=re.MULTILINE)
        assert len(versions) == len(sources), f"each registry source needs a version pin:\n{block}"
        assert all(s.split("//")[0] == REGISTRY_SOURCE for s in sources)
        pins += versions
    assert pins and set(pins) == {VERSION}


def test_ci_and_pre_commit_pins_are_the_release_tag() -> None:
    workflow = yaml.safe_load((REPO_ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    assert workflow["env"]["APPROVED_AMIS"].endswith(f"@v{VERSION}")
    revs = re.findall(r"^\s*rev:\s*(\S+)", (REPO_ROOT / "src" / "approved_amis" / "README.md").read_text(), flags=re.MULTILINE)
    assert revs and set(revs) == {f"v{VERSION}"}


def test_license_is_apache_2() -> None:
    text = (REPO_ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["license"] == {"text": "Apache-2.0"}


def test_examples_say_they_use_the_local_source() -> None:
    """Examples call the module by `../../` so they run from a checkout; each says how users write it."""
    for main in sorted((REPO_ROOT / "examples").glob("*/main.tf")):
        text = main.read_text()
        if re.search(r'source\s*=\s*"\.\./\.\.', text):
            assert REGISTRY_SOURCE in text, f"{main.relative_to(REPO_ROOT)}: say which source users write"


def test_every_readme_pins_the_version() -> None:
    """The example and CLI READMEs show the same release in `version = "..."` and `...@v<version>` pins."""
    readmes = [*sorted((REPO_ROOT / "examples").glob("*/README.md")), REPO_ROOT / "src" / "approved_amis" / "README.md"]
    pins = []
    for readme in readmes:
        text = readme.read_text()
        pins += [(readme.name, p) for p in re.findall(r'^\s*version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)]
        pins += [(readme.name, p) for p in re.findall(r"terraform-aws-approved-amis@v([0-9][^\s\"]*)", text)]
    assert len(pins) >= len(readmes)
    assert {p for _, p in pins} == {VERSION}, pins
