"""The HCL usage blocks of the README and of every submodule's README are real configurations: each one plans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tfcli import REPO_ROOT
from workspace import repository_source

PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'
MODULE_READMES = sorted((REPO_ROOT / "modules").glob("*/README.md"))
READMES = [REPO_ROOT / "README.md", *MODULE_READMES]


def usage_blocks(readme: Path) -> list[str]:
    blocks = re.findall(r"```hcl\n(.*?)```", readme.read_text(), flags=re.DOTALL)
    return [block for block in blocks if re.search(r'^module "', block, flags=re.MULTILINE)]


USAGE_BLOCKS = [block for readme in READMES for block in usage_blocks(readme)]


REGISTRY_SOURCE = "your-org/approved-amis/aws"


def local_source(source: str) -> str:
    """This checkout in place of the published source; a `//modules/<name>` suffix keeps its submodule."""
    submodule = re.search(r"(?<!:)//(modules/[^?]+)", source)
    return repository_source(REPO_ROOT / submodule.group(1) if submodule else REPO_ROOT)


def local_config(block: str) -> str:
    """The block as it plans here: registry sources become this checkout, their `version` pins go (Terraform
    accepts `version` only with a registry source; tests/test_release.py checks the pins)."""
    for source in re.findall(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE):
        assert source.split("//")[0] == REGISTRY_SOURCE, f"usage blocks name the registry source, not {source}"
    config = re.sub(r'^(\s*source\s*=\s*)"([^"]+)"(.*)$', lambda m: f'{m.group(1)}"{local_source(m.group(2))}"', block, flags=re.MULTILINE)
    return re.sub(r'^\s*version\s*=\s*"[^"]*"\s*\n', "", config, flags=re.MULTILINE)


def test_the_readme_shows_usage() -> None:
    assert usage_blocks(REPO_ROOT / "README.md"), "README.md has no ```hcl block with a module call"


@pytest.mark.parametrize("readme", MODULE_READMES, ids=[readme.parent.name for readme in MODULE_READMES])
def test_every_submodule_readme_shows_usage(readme: Path) -> None:
    assert usage_blocks(readme), f"{readme.relative_to(REPO_ROOT)} has no ```hcl block with a module call"


@pytest.mark.parametrize("index", range(len(USAGE_BLOCKS)))
def test_readme_usage_block_plans(index: int, plan_summary, tmp_path_factory: pytest.TempPathFactory) -> None:
    block = USAGE_BLOCKS[index]
    sources = re.findall(r'^\s*source\s*=\s*"([^"]+)"', block, flags=re.MULTILINE)
    assert sources, "a usage block must name its module source"
    directory: Path = tmp_path_factory.mktemp(f"readme-{index}")
    (directory / "main.tf").write_text(PROVIDER + local_config(block))
    plan = plan_summary(directory)
    assert plan.counts, "the usage block plans no resources"


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
