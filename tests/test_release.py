"""One version for the module and the CLI, defined in VERSION, and everything that names it in step; the
release `make release` builds, as a consumer fetches it: the module archive planned from an HTTP URL, the
CLI wheel installed by pipx offline."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from scripts import release as make_release
from support.release import pipx_install, serving
from support.terraform_cli import check, run
from test_readme_examples import PROVIDER, RELEASE_ADDRESS, RELEASE_SOURCE, USAGE_BLOCKS, package_of, usage_blocks
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

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
    """Every usage block names the release archive of VERSION; no `version` argument, which Terraform
    accepts only with a registry source."""
    sources = []
    for block in USAGE_BLOCKS:
        sources += re.findall(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE)
        assert not re.search(r'^\s*version\s*=', block, flags=re.MULTILINE), block
    assert sources and {package_of(source) for source in sources} == {RELEASE_SOURCE}
    assert RELEASE_SOURCE.endswith(f"/v{VERSION}/{make_release.MODULE_ARCHIVE}")


def test_ci_and_pre_commit_pins_are_the_release_tag() -> None:
    workflow = read_yaml(REPO_ROOT / "examples" / "ci" / "github-actions.yml")
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
            assert "release archive" in text, f"{main.relative_to(REPO_ROOT)}: say which source users write"


def test_every_readme_pins_the_version() -> None:
    """The example and CLI READMEs show the same release in `version = "..."` and `...@v<version>` pins."""
    readmes = [*sorted((REPO_ROOT / "examples").glob("*/README.md")), REPO_ROOT / "src" / "approved_amis" / "README.md"]
    pins = []
    for readme in readmes:
        text = readme.read_text()
        pins += [(readme.name, p) for p in re.findall(r'^\s*version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)]
        pins += [(readme.name, p) for p in re.findall(r"terraform-aws-approved-amis@v([0-9][^\s\"]*)", text)]
        pins += [(readme.name, p) for p in re.findall(r"/releases/download/v([0-9][^/\s\"]*)/", text)]
        pins += [(readme.name, p) for p in re.findall(r"approved[-_]amis-([0-9][0-9.]*[0-9])[-.]", text)]
    assert len(pins) >= len(readmes)
    assert {p for _, p in pins} == {VERSION}, pins


################################################################################
# The release: make release, and the artifacts as a consumer uses them
################################################################################


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of `make release` (scripts/release.py), built into a folder of its own."""
    out = tmp_path_factory.mktemp("dist")
    assert make_release.main(["--out", str(out)]) == 0
    return out


def test_release_holds_the_files_of_the_version_and_their_checksums(dist: Path) -> None:
    names = {make_release.MODULE_ARCHIVE, make_release.WHEEL, make_release.SDIST}
    assert {path.name for path in dist.iterdir()} == names | {"SHA256SUMS"}
    assert all(VERSION in name for name in names)
    listed = dict(reversed(line.split("  ")) for line in (dist / "SHA256SUMS").read_text().splitlines())
    assert set(listed) == names
    result = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.count(": OK") == 3, result.stdout + result.stderr


def test_the_module_archive_holds_what_a_consumer_needs_and_nothing_else(dist: Path) -> None:
    with tarfile.open(dist / make_release.MODULE_ARCHIVE) as archive:
        members = archive.getmembers()
    names = {member.name for member in members}
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    expected = {name for name in tracked if re.fullmatch(r"[^/]+\.tf|modules/.+", name)}
    expected |= {"README.md", "CHANGELOG.md", "LICENSE", "VERSION"}
    assert names == expected, (sorted(names - expected), sorted(expected - names))
    assert all(member.isfile() and member.uid == 0 and member.mode == 0o644 for member in members)


def test_the_module_archive_is_reproducible(tmp_path: Path) -> None:
    make_release.write_module_archive(tmp_path / "one.tar.gz")
    make_release.write_module_archive(tmp_path / "two.tar.gz")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()


def test_the_python_packages_hold_the_cli_and_its_metadata_only(dist: Path) -> None:
    with zipfile.ZipFile(dist / make_release.WHEEL) as wheel:
        top = {name.split("/")[0] for name in wheel.namelist()}
        metadata = wheel.read(f"approved_amis-{VERSION}.dist-info/METADATA").decode()
    assert top == {"approved_amis", f"approved_amis-{VERSION}.dist-info"}
    assert f"Version: {VERSION}" in metadata and "Requires-Dist: boto3" in metadata
    with tarfile.open(dist / make_release.SDIST) as sdist:
        names = [name.split("/", 1)[-1] for name in sdist.getnames()]
    assert "pyproject.toml" in names and "src/approved_amis/cli.py" in names
    assert not [name for name in names if name.startswith(("tests", "harness", "scripts", "modules", "examples"))]


@pytest.fixture(scope="module")
def served_usage(dist: Path, tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The README's usage blocks as a consumer's root, each `source` as written with the release address
    replaced by the loopback server of dist/; the outputs of its init and of its plan."""
    blocks = usage_blocks(REPO_ROOT / "README.md")
    root = tmp_path_factory.mktemp("consumer")
    calls = []
    with serving(dist) as address:
        for index, block in enumerate(blocks):
            (root / f"block-{index}").mkdir()
            (root / f"block-{index}" / "main.tf").write_text(block.replace(RELEASE_ADDRESS, address))
            calls.append(f'\nmodule "block_{index}" {{\n  source = "./block-{index}"\n}}\n')
        (root / "main.tf").write_text(PROVIDER + "".join(calls))
        env = dict(tf_env, TF_DATA_DIR=str(root / ".terraform"))
        init = check(["init", "-input=false", "-no-color", "-backend=false"], root, env)
    plan = run(["plan", "-input=false", "-no-color", "-lock=false", "-out=consumer.tfplan"], root, env)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    shown = check(["show", "-json", "consumer.tfplan"], root, env)
    return {"address": address, "init": init, "plan": plan.stdout + plan.stderr, "json": shown, "blocks": str(len(blocks))}


def test_the_readme_usage_plans_from_the_served_module_archive(served_usage: dict[str, str]) -> None:
    """Terraform fetches the archive over HTTP and unpacks it: the README's sources work as written for a
    published archive, but for the address where it is hosted."""
    archive_url = f"{served_usage['address']}/{make_release.MODULE_ARCHIVE}"
    assert f"Downloading {archive_url}" in served_usage["init"], served_usage["init"]
    planned = json.loads(served_usage["json"])["resource_changes"]
    for index in range(int(served_usage["blocks"])):
        mine = [change for change in planned if change["address"].startswith(f"module.block_{index}.module.")]
        assert mine and all(change["change"]["actions"] == ["create"] for change in mine), index


def test_pipx_installs_the_wheel_into_a_clean_environment_offline(dist: Path, emulator: str, tmp_path: Path) -> None:
    installed = pipx_install(dist / make_release.WHEEL, tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    cli = tmp_path / "bin" / "approved-amis"
    assert subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.strip() == f"approved-amis {VERSION}"
    where = subprocess.run(
        [str(tmp_path / "pipx" / "venvs" / "approved-amis" / "bin" / "python"), "-c", "import approved_amis; print(approved_amis.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert where.stdout.startswith(str(tmp_path / "pipx")), where.stdout + where.stderr
    from harness.tfcli import emulator_credentials

    audit = subprocess.run(
        [str(cli), "audit", "--tag-key", "Environment", "--tag-value", "Prod", "--region", "eu-west-3", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **emulator_credentials(emulator)},
    )  # fmt: skip
    assert audit.returncode == 0 and json.loads(audit.stdout) == [], audit.stdout + audit.stderr


def test_the_readme_usage_warns_of_alerts_without_a_subscriber(served_usage: dict[str, str]) -> None:
    """The plain call's topic has no subscriber: the plan warns (check `alerts_have_a_subscriber`) and goes
    on; the README's call with `sns_subscriptions` does not warn."""
    blocks = usage_blocks(REPO_ROOT / "README.md")
    statuses = {}
    for check_result in json.loads(served_usage["json"]).get("checks", []):
        if check_result["address"].get("name") == "alerts_have_a_subscriber":
            for instance in check_result.get("instances", []):
                statuses[instance["address"]["module"].split(".")[1]] = instance["status"]
    expected = {f"block_{i}": "pass" if "sns_subscriptions" in block else "fail" for i, block in enumerate(blocks) if "create_sns_alerts = false" not in block}
    assert statuses == expected and "fail" in statuses.values(), statuses
    assert "Warning: Check block assertion failed" in served_usage["plan"]
    assert "has no subscriber: NON_COMPLIANT alerts reach no one" in " ".join(served_usage["plan"].split())
