"""The HCL usage blocks of the README and of every submodule's README are real configurations: each one plans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tftest

from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT
from harness.workspace import repository_source

PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'
MODULE_READMES = sorted((REPO_ROOT / "modules").glob("*/README.md"))
READMES = [REPO_ROOT / "README.md", *MODULE_READMES]


def usage_blocks(readme: Path) -> list[str]:
    blocks = re.findall(r"```hcl\n(.*?)```", readme.read_text(), flags=re.DOTALL)
    return [block for block in blocks if re.search(r'^module "', block, flags=re.MULTILINE)]


USAGE_BLOCKS = [block for readme in READMES for block in usage_blocks(readme)]


VERSION = (REPO_ROOT / "VERSION").read_text().strip()
# Where a release's files are published: the one part of a source that depends on where the project is hosted.
RELEASE_ADDRESS = f"https://github.com/your-org/terraform-aws-approved-amis/releases/download/v{VERSION}"
# The module archive `make release` builds (scripts/release.py), as a consumer's `source`.
RELEASE_SOURCE = f"{RELEASE_ADDRESS}/terraform-aws-approved-amis-{VERSION}.tar.gz"


def package_of(source: str) -> str:
    """A module source without its `//<subdirectory>` (the `//` of `https://` is not one)."""
    return re.sub(r"(?<!:)//.*$", "", source)


def local_source(source: str) -> str:
    """This checkout in place of the published source; a `//modules/<name>` suffix keeps its submodule."""
    submodule = re.search(r"(?<!:)//(modules/[^?]+)", source)
    return repository_source(REPO_ROOT / submodule.group(1) if submodule else REPO_ROOT)


def local_config(block: str) -> str:
    """The block as it plans here: the release archive becomes this checkout (tests/test_release.py plans the
    README's usage from the archive itself, served over HTTP)."""
    for source in re.findall(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE):
        assert package_of(source) == RELEASE_SOURCE, f"usage blocks name the release archive, not {source}"
    return re.sub(r'^(\s*source\s*=\s*)"([^"]+)"(.*)$', lambda m: f'{m.group(1)}"{local_source(m.group(2))}"', block, flags=re.MULTILINE)


def test_the_readme_shows_usage() -> None:
    assert usage_blocks(REPO_ROOT / "README.md"), "README.md has no ```hcl block with a module call"


@pytest.mark.parametrize("readme", MODULE_READMES, ids=[readme.parent.name for readme in MODULE_READMES])
def test_every_submodule_readme_shows_usage(readme: Path) -> None:
    assert usage_blocks(readme), f"{readme.relative_to(REPO_ROOT)} has no ```hcl block with a module call"


def refusal(block: str) -> str | None:
    """Why a usage block cannot be planned here as its reader would apply it, or None when it can."""
    if not re.search(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE):
        return "names no module source"
    if re.search(r'^\s*(backend\s+"|cloud\s*\{)', block, flags=re.MULTILINE):
        return "names a backend, which Terraform ignores outside the root module"
    try:
        local_config(block)
    except AssertionError as error:
        return str(error)
    return None


def blocks_named(error: str) -> set[int]:
    """The usage blocks a plan error points at: by file (`block-N/main.tf`) or by address (`module.block_N`)."""
    return {int(number) for number in re.findall(r"\bblock[-_](\d+)\b", error)}


def write_usage_root(indexes: list[int], directory: Path) -> Path:
    """A root configuring the provider once and calling each usage block, `block-N/main.tf`, as module.block_N."""
    calls = []
    for index in indexes:
        (directory / f"block-{index}").mkdir()
        (directory / f"block-{index}" / "main.tf").write_text(local_config(USAGE_BLOCKS[index]))
        calls.append(f'\nmodule "block_{index}" {{\n  source = "./block-{index}"\n}}\n')
    (directory / "main.tf").write_text(PROVIDER + "".join(calls))
    return directory


@pytest.fixture(scope="module")
def usage_plans(plan_summary, tmp_path_factory: pytest.TempPathFactory) -> dict[int, PlanSummary | str]:
    """For each usage block, the plan of one root calling every block, or the error of the plan that failed on it.

    Each block is a child module written as it plans here (`local_config`) and inherits the root's provider,
    as in a caller's configuration. A block that brings its own `provider` or `terraform` block keeps it in
    its child module, where Terraform accepts both (a provider block there configures that block alone); a
    `backend` or `cloud` block would be ignored there, so such a block is refused (`refusal`) and left out.
    When the plan fails, the blocks its errors point at get the error and the others are planned again
    without them; an error that points at no block is every remaining block's error.
    """
    outcome: dict[int, PlanSummary | str] = {}
    remaining = [index for index, block in enumerate(USAGE_BLOCKS) if refusal(block) is None]
    while remaining:
        directory = write_usage_root(remaining, tmp_path_factory.mktemp("readme-usage"))
        try:
            summary = plan_summary(directory)
        except tftest.TerraformTestError as error:
            message = error.cmd_error or str(error)
            for index in blocks_named(message) & set(remaining) or remaining:
                outcome[index] = message
            remaining = [index for index in remaining if index not in outcome]
        else:
            outcome.update(dict.fromkeys(remaining, summary))
            remaining = []
    return outcome


@pytest.mark.parametrize("index", range(len(USAGE_BLOCKS)))
def test_readme_usage_block_plans(index: int, usage_plans: dict[int, PlanSummary | str]) -> None:
    reason = refusal(USAGE_BLOCKS[index])
    assert reason is None, f"usage block {index} {reason}"
    plan = usage_plans[index]
    if isinstance(plan, str):
        pytest.fail(f"usage block {index} (module.block_{index}) does not plan:\n{plan}")
    planned = [address for address in plan.values if address.startswith(f"module.block_{index}.")]
    assert planned, f"usage block {index} (module.block_{index}) plans no resources"


def test_the_readme_opens_with_the_two_commands_that_ci_runs() -> None:
    """A newcomer's first read: `make demo` and `make test` do all set-up; CI runs the same test command."""
    readme = (REPO_ROOT / "README.md").read_text()
    first_block = re.search(r"```\w*\n(.*?)```", readme, flags=re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    assert readme.index(first_block.group(0)) < readme.index("\n## ")
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_the_plain_call_creates_what_the_readme_says(usage_plans: dict[int, PlanSummary | str]) -> None:
    """The README's figures for its first usage block, the plain call: resources in all, and of the alerts."""
    index = USAGE_BLOCKS.index(usage_blocks(REPO_ROOT / "README.md")[0])
    plan = usage_plans[index]
    assert not isinstance(plan, str), plan
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    mine = [address for address in plan.values if address.startswith(f"module.block_{index}.")]
    total = re.search(r"The call above plans (\d+) resources", readme)
    alerts = re.search(r"a CloudWatch alarm on failed deliveries: (\d+) resources", readme)
    assert total and int(total.group(1)) == len(mine)
    assert alerts and int(alerts.group(1)) == len([address for address in mine if ".module.sns_alerts." in address])
    for resource_type in ("aws_iam_policy", "aws_iam_role_policy_attachment", "aws_config_config_rule"):
        assert f"`{resource_type}`" in readme and [a for a in mine if f".{resource_type}." in a], resource_type
