"""checkov over the module source and over the plan of every example: no failed check.

A check that does not apply is suppressed inline at the resource (`#checkov:skip=CKV_...:reason`); every
suppression is listed in CONTRIBUTING.md's "How it is tested" section, and that list is checked against the .tf files.
checkov runs from its own virtualenv (.venv-checkov), once for the source and once for every example's plan.
Each example's plan JSON is its part of the plan of every PLANNED input (conftest.py: plan_summary), as
`terraform show -json` prints the example planned alone (tests/support/instances.py: instance_plan).
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from conftest import EXAMPLE_NAMES, EXAMPLES
from harness.tfcli import REPO_ROOT

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / name, {}) for name in EXAMPLE_NAMES]
NOT_SCANNED = ("tests/",)  # plan fixtures of the CLI tests: deliberately unapproved, not module code
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+):?(.*)")
BLOCK_HEADER = re.compile(r'^(resource|data|module)\s+"([^"]+)"(?:\s+"([^"]+)")?\s*\{')


def checkov(*arguments: str) -> dict[str, Any]:
    """Run checkov with JSON output; its one report, with results and summary."""
    assert CHECKOV.is_file(), f"checkov is missing at {CHECKOV.relative_to(REPO_ROOT)}: run `make venv`"
    result = subprocess.run(
        [str(CHECKOV), *arguments, "--output", "json", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode in (0, 1), f"checkov failed ({result.returncode}):\n{result.stderr[-3000:]}"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert len(reports) == 1, [r.get("check_type") for r in reports]
    report = reports[0]
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


def failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]


@pytest.fixture(scope="module")
def source_report() -> dict[str, Any]:
    arguments = ["--directory", str(REPO_ROOT), "--framework", "terraform"]
    for path in NOT_SCANNED:
        arguments += ["--skip-path", path]
    return checkov(*arguments)


@pytest.fixture(scope="module")
def plan_reports(plan_summary, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each example's part of one checkov run over every example's plan JSON (inline suppressions honoured):
    its results, told apart by the plan file each comes from, and their counts."""
    folder = tmp_path_factory.mktemp("checkov-plans")
    arguments = ["--framework", "terraform_plan", "--repo-root-for-plan-enrichment", str(REPO_ROOT)]
    for example in EXAMPLE_NAMES:
        plan_file = folder / f"{example}.json"
        plan_file.write_text(json.dumps(plan_summary(EXAMPLES / example).raw))
        arguments += ["--file", str(plan_file)]
    report = checkov(*arguments)
    reports = {}
    for example in EXAMPLE_NAMES:
        plan_file = str(folder / f"{example}.json")
        results = {
            kind: [c for c in checks if c["file_abs_path"] == plan_file] for kind, checks in report["results"].items()
        }
        summary = {kind.removesuffix("_checks"): len(checks) for kind, checks in results.items()}
        reports[example] = {"check_type": report["check_type"], "results": results, "summary": summary}
    return reports


def test_every_example_is_scanned() -> None:
    assert {"basic", "complete"} <= set(EXAMPLE_NAMES)


def test_checkov_source_scan_has_no_failed_checks(source_report) -> None:
    summary = source_report["summary"]
    assert summary["resource_count"] > 0 and summary["passed"] > 0, summary
    scanned = {c["file_path"].lstrip("/") for c in source_report["results"]["passed_checks"]}
    assert {"modules/iam-policy/main.tf", "examples/complete/main.tf"} <= scanned
    assert failures(source_report) == [], summary


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_checkov_plan_scan_has_no_failed_checks(example: str, plan_reports) -> None:
    report = plan_reports[example]
    assert report["check_type"] == "terraform_plan"
    assert report["summary"]["passed"] > 0, f"checkov checked nothing in the plan of {example}"
    assert failures(report) == [], report["summary"]


def test_plan_scan_honours_inline_suppressions(plan_reports) -> None:
    """Without --repo-root-for-plan-enrichment a plan scan ignores inline suppressions: prove they are read."""
    skipped = plan_reports["complete"]["results"].get("skipped_checks", [])
    boundary = {c["check_id"] for c in skipped if c["resource"].endswith("aws_iam_policy.boundary[0]")}
    assert "CKV_AWS_62" in boundary, sorted(boundary)


################################################################################
# Suppressions: in the .tf files and in CONTRIBUTING.md, the same list
################################################################################


def inline_suppressions() -> dict[tuple[str, str, str], str]:
    """(check, directory, block address) -> reason, for every checkov:skip comment in the module source."""
    found: dict[tuple[str, str, str], str] = {}
    for tf_file in sorted(REPO_ROOT.rglob("*.tf")):
        relative = tf_file.relative_to(REPO_ROOT)
        if any(part.startswith(".") for part in relative.parts) or str(relative).startswith(NOT_SCANNED):
            continue
        block = None
        for line in tf_file.read_text().splitlines():
            header = BLOCK_HEADER.match(line)
            if header:
                kind, first, second = header.groups()
                names = {"resource": f"{first}.{second}", "module": f"module.{first}"}
                block = names.get(kind, f"data.{first}.{second}")
            skip = SKIP_COMMENT.search(line)
            if skip:
                assert block, f"{relative}: checkov:skip outside a block: {line.strip()}"
                found[(skip.group(1), str(relative.parent), block)] = skip.group(2).strip()
    return found


def readme_suppressions() -> set[tuple[str, str, str]]:
    """(check, directory, block address) for every row of CONTRIBUTING.md's checkov suppression table."""
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    match = re.search(r"^## How it is tested\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "CONTRIBUTING.md has no '## How it is tested' section"
    listed: set[tuple[str, str, str]] = set()
    for row in re.findall(r"^\|(.+)\|\s*$", match.group(1), re.MULTILINE):
        cells = [cell.strip() for cell in row.split("|")]
        checks = re.findall(r"`(CKV2?_[A-Z0-9]+_\d+)`", cells[0])
        if not checks:
            continue
        resource = re.findall(r"`([^`]+)`", cells[1])
        assert len(resource) == 2 and cells[2], f"a suppression row needs `address` in `directory`, a reason: {row}"
        listed |= {(check, resource[1], resource[0]) for check in checks}
    return listed


def test_every_suppression_has_a_reason() -> None:
    suppressions = inline_suppressions()
    assert suppressions, "no inline suppressions found: the parser or the source changed"
    assert [key for key, reason in suppressions.items() if len(reason) < 20] == []


def test_readme_lists_exactly_the_inline_suppressions() -> None:
    in_code = set(inline_suppressions())
    in_readme = readme_suppressions()
    assert sorted(in_code - in_readme) == [], "suppressed in the .tf files but not listed in CONTRIBUTING.md ## How it is tested"
    assert sorted(in_readme - in_code) == [], "listed in CONTRIBUTING.md ## How it is tested but not suppressed in the .tf files"
