"""Every figure the README quotes about what the module plans is the plan's: a changed module that changes
a figure fails here until the README says the new one (limits of AWS are AWS's, not checked here)."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import EXAMPLES
from harness.tfcli import REPO_ROOT
from test_readme_examples import USAGE_BLOCKS, usage_blocks, write_usage_root

README = " ".join((REPO_ROOT / "README.md").read_text().split())  # figures may wrap
CONTRACT = yaml.safe_load((REPO_ROOT / "tests" / "contracts" / "bad_inputs_organization.yaml").read_text())


def quoted(pattern: str) -> int:
    match = re.search(pattern, README)
    assert match, f"the README no longer quotes /{pattern}/"
    return int(match.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def plain_call(plan_summary, tmp_path_factory: pytest.TempPathFactory):
    """The plan of the README's first usage block, the plain call, as module.block_<N>."""
    index = USAGE_BLOCKS.index(usage_blocks(REPO_ROOT / "README.md")[0])
    return index, plan_summary(write_usage_root([index], tmp_path_factory.mktemp("plain-call")))


def test_the_resources_of_the_plain_call(plain_call) -> None:
    index, plan = plain_call
    mine = [address for address in plan.values if address.startswith(f"module.block_{index}.")]
    assert quoted(r"The call above plans (\d+) resources") == len(mine)
    alerts = [address for address in mine if ".module.sns_alerts." in address]
    assert quoted(r"a CloudWatch alarm on failed deliveries: (\d+) resources") == len(alerts)
    for resource_type in ("aws_iam_policy", "aws_iam_role_policy_attachment", "aws_config_config_rule"):
        assert f"`{resource_type}`" in README and plan.only(resource_type), resource_type


def test_the_scp_size_quoted_for_the_organization_example(plan_summary) -> None:
    size = plan_summary(EXAMPLES / "organization").outputs["scp_characters"]
    assert quoted(r"`scp_characters` shows the size \(([\d,]+) for the example\)") == size


def test_the_scp_size_quoted_over_the_limit(plan_error) -> None:
    case = CONTRACT["scp-over-the-size-limit"]
    error = plan_error(REPO_ROOT / case["directory"], **case["vars"])
    planned = re.search(r"The SCP document would be (\d+) characters", error)
    assert planned, error[-2000:]
    assert quoted(r"The SCP document would be (\d+) characters") == int(planned.group(1))
    assert quoted(r"`terraform plan` fails, here with (\d+) long publisher ARNs") == len(case["vars"]["ami_publisher_arns"])
