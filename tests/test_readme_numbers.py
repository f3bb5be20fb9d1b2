"""Every figure the README quotes about what the module plans is the plan's: a changed module that changes
a figure fails here until the README says the new one (limits of AWS are AWS's, not checked here). The
resources of the plain call are counted in tests/test_readme_examples.py, from the plan of its usage blocks."""

from __future__ import annotations

import re

from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

EXAMPLES = REPO_ROOT / "examples"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / "organization", {})]
README = " ".join((REPO_ROOT / "README.md").read_text().split())  # figures may wrap
CONTRACT = read_yaml(REPO_ROOT / "tests" / "contracts" / "bad_inputs_organization.yaml")


def quoted(pattern: str) -> int:
    match = re.search(pattern, README)
    assert match, f"the README no longer quotes /{pattern}/"
    return int(match.group(1).replace(",", ""))


def test_the_scp_sizes_quoted_for_the_organization_example(plan_summary) -> None:
    sizes = plan_summary(EXAMPLES / "organization").outputs["scp_characters"]
    for part in ("launch", "approval"):
        assert quoted(rf"`scp_characters` shows each size \(.*?{part} ([\d,]+)[,;)]") == sizes[part], part


OVER_THE_LIMIT = CONTRACT["scp-over-the-size-limit"]
REJECTED = [(REPO_ROOT / OVER_THE_LIMIT["directory"], OVER_THE_LIMIT["vars"])]


def test_the_scp_size_quoted_over_the_limit(plan_error) -> None:
    error = plan_error(REPO_ROOT / OVER_THE_LIMIT["directory"], **OVER_THE_LIMIT["vars"])
    planned = re.search(r"An SCP document would be (\d+) characters", error)
    assert planned, error[-2000:]
    assert quoted(r"An SCP document would be (\d+) characters") == int(planned.group(1))
    assert quoted(r"`terraform plan` fails, here with (\d+) long publisher ARNs") == len(OVER_THE_LIMIT["vars"]["ami_publisher_arns"])
