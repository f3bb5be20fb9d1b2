"""Print the size of every document the approval rule renders for a large input, as AWS counts it.

The input is tests/fixtures/realistic-input (3 approval tag values, 21 and then 10 AMI IDs, 3 owners,
3 publishers, 2 exempt principals, 1 IAM administrator, 2 AMI parameter paths); IAM counts a managed policy without whitespace (limit 6,144),
Organizations counts an SCP with it (limit 5,120), AWS Config allows 1,024 characters of input_parameters.

    python -m scripts.policy_sizes
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.tfcli import REPO_ROOT, terraform_env
from harness.workspace import copy_example

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "realistic-input"
LIMITS = {"policy": 6144, "boundary": 6144}
SCP_LIMIT = 5120
CONFIG_RULE_LIMIT = 1024


def planned_outputs(directory: Path, ami_id_count: int, launch_configurations: str = "none") -> dict[str, object]:
    env = terraform_env()
    run = {"cwd": directory, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run(["terraform", "init", "-input=false", "-backend=false"], **run)
    plan = ["terraform", "plan", "-input=false", "-lock=false", f"-var=ami_id_count={ami_id_count}",
            f"-var=launch_configurations={launch_configurations}", "-out=plan.bin"]  # fmt: skip
    subprocess.run(plan, **run)
    shown = subprocess.run(["terraform", "show", "-json", "plan.bin"], **run).stdout
    return {name: output["value"] for name, output in json.loads(shown)["planned_values"]["outputs"].items()}


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        directory = copy_example(FIXTURE, Path(scratch))
        for ami_id_count, launch_configurations in ((21, "none"), (10, "none"), (21, "approved_ami_ids")):
            outputs = planned_outputs(directory, ami_id_count, launch_configurations)
            print(f"with {ami_id_count} AMI IDs, launch_configurations = {launch_configurations}:")
            for name, limit in LIMITS.items():
                size = outputs["characters"][name]
                print(f"  {name}: {size} characters of {limit} (margin {limit - size})")
            for part, size in outputs["characters"]["scp"].items():
                print(f"  scp {part}: {size} characters of {SCP_LIMIT} (margin {SCP_LIMIT - size})")
            for name, parameters in outputs["config_rule_parameters"].items():
                print(f"  config rule {name}: {len(parameters)} characters of {CONFIG_RULE_LIMIT}")
            for part, document in outputs["scp_policy_jsons"].items():
                print(f"  statements in the {part} SCP: {len(json.loads(document)['Statement'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
