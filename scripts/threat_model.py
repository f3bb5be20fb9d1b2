"""The threat model (tests/contracts/threat_model.yaml) as README markdown, and how many paths each layer closes.

    python -m scripts.threat_model            # the README section, as generated
    python -m scripts.threat_model --counts   # paths, and paths closed or detected by each layer
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

MODEL_PATH = REPO_ROOT / "tests" / "contracts" / "threat_model.yaml"
BEGIN, END = "<!-- BEGIN_THREAT_MODEL -->", "<!-- END_THREAT_MODEL -->"
LAYER_NAMES = {
    "identity-policy": "policy",
    "boundary": "boundary",
    "scp": "SCP",
    "allowed-amis": "Allowed AMIs",
    "config": "Config",
    "audit": "audit",
}


def load() -> dict[str, Any]:
    return read_yaml(MODEL_PATH)


def layers(names: list[str]) -> str:
    return ", ".join(LAYER_NAMES[name] for name in names) or "none"


def markdown(model: dict[str, Any]) -> str:
    lines = [
        BEGIN,
        "| Path | Closed by | Seen by | What is left |",
        "| --- | --- | --- | --- |",
    ]
    for path in model["paths"]:
        cell = path["path"].replace("|", "\\|")
        residual = path["residual"] + (f" (AWS: {path['source']})" if path.get("source") else "")
        lines.append(f"| {cell} | {layers(path['closed_by'])} | {layers(path['detected_by'])} | {residual} |")
    lines += ["", "What no IAM layer can stop:", ""]
    lines += [f"- {item}" for item in model["beyond_iam"]]
    lines += ["", "The staged path to Allowed AMIs in enabled state:", ""]
    lines += [f"{number}. {step}" for number, step in enumerate(model["staged_path"], start=1)]
    lines.append(END)
    return "\n".join(lines)


def counts(model: dict[str, Any]) -> dict[str, Any]:
    closed = Counter(layer for path in model["paths"] for layer in path["closed_by"])
    seen = Counter(layer for path in model["paths"] for layer in path["detected_by"])
    return {
        "paths": len(model["paths"]),
        "closed_by": {layer: closed[layer] for layer in model["layers"]},
        "detected_by": {layer: seen[layer] for layer in model["layers"]},
        "closed_by_no_layer": sum(1 for path in model["paths"] if not path["closed_by"]),
        "closed_only_by_allowed_amis": sum(1 for path in model["paths"] if path["closed_by"] == ["allowed-amis"]),
    }


def main(argv: list[str]) -> int:
    model = load()
    if argv[1:] == ["--counts"]:
        for key, value in counts(model).items():
            print(f"{key}: {value}")
    else:
        print(markdown(model))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
