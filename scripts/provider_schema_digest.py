"""Compact digest of the hashicorp/aws provider schema: resource and data source types, their arguments,
nested blocks and computed attributes.

Two sources, one shape:
- provider 6.x, offline: the `.jsii` assembly of the npm package `@cdktf/provider-aws` (21.x is generated
  from provider 6.25.0). Each resource or data source is a class with a `<Name>Config` struct; nested
  blocks are structs of their own. Names are camelCase there; the snake_case name is read from each
  property's registry link (`...#input_parameters`), and converted only where no link names it.
- any installed provider: `terraform providers schema -json` of an initialised root (`from_terraform_schema`).

Digest shape: {"provider_version", "source", "resource": {type: node}, "data": {type: node}} where a node is
{"arguments": [names], "attributes": [computed-only names], "blocks": {name: node}}.

    python -m scripts.provider_schema_digest                  # npm pack 21.22.1 into a temp dir, write the digest
    python -m scripts.provider_schema_digest --jsii path/.jsii
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from harness.tfcli import REPO_ROOT

DIGEST_PATH = REPO_ROOT / "tests" / "contracts" / "provider6_schema.json.gz"
NPM_PACKAGE = "@cdktf/provider-aws"
NPM_VERSION = "21.22.1"

_TYPE_LINK = re.compile(r"hashicorp/aws/(?P<version>[0-9.]+)/docs/(?P<kind>resources|data-sources)/\S+ (?P<type>aws_[a-z0-9_]+)\}")
_ARG_LINK = re.compile(r"hashicorp/aws/[0-9.]+/docs/(?:resources|data-sources)/[a-z0-9_]+#(?P<name>[a-z0-9_]+) ")


def camel_to_snake(name: str) -> str:
    """`ipv6CidrBlock` -> `ipv6_cidr_block`, `s3KeyPrefix` -> `s3_key_prefix`: digits stay with the word before."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _docs_text(member: dict[str, Any]) -> str:
    docs = member.get("docs", {})
    return f"{docs.get('summary', '')} {docs.get('remarks', '')}"


def _struct_fqn(type_ref: dict[str, Any]) -> str | None:
    """The struct a property's type names, directly, as a collection element, or inside a union."""
    if "fqn" in type_ref:
        return type_ref["fqn"]
    if "collection" in type_ref:
        return _struct_fqn(type_ref["collection"]["elementtype"])
    for member in type_ref.get("union", {}).get("types", []):
        found = _struct_fqn(member)
        if found and not found.startswith("cdktf."):
            return found
    return None


class _Jsii:
    def __init__(self, assembly: dict[str, Any]) -> None:
        self.types: dict[str, Any] = assembly["types"]
        self.package_version: str = assembly["version"]
        self.converted: set[str] = set()  # camelCase names with no registry link, converted by rule
        # Every registry-linked property anywhere: camelCase -> snake_case, for getters that carry no link.
        self.known: dict[str, str] = {}
        for spec in self.types.values():
            for prop in spec.get("properties", []):
                match = _ARG_LINK.search(_docs_text(prop))
                if match and camel_to_snake(prop["name"]).replace("_", "") == match["name"].replace("_", ""):
                    self.known.setdefault(prop["name"], match["name"])

    def snake(self, prop: dict[str, Any]) -> str:
        match = _ARG_LINK.search(_docs_text(prop))
        if match:
            return match["name"]
        if prop["name"] in self.known:
            return self.known[prop["name"]]
        self.converted.add(prop["name"])
        return camel_to_snake(prop["name"])

    def struct_node(self, fqn: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        arguments: list[str] = []
        blocks: dict[str, Any] = {}
        for prop in self.types[fqn].get("properties", []):
            name = self.snake(prop)
            nested = _struct_fqn(prop["type"])
            if nested and nested in self.types and self.types[nested].get("datatype") and nested not in seen:
                blocks[name] = self.struct_node(nested, (*seen, fqn))
            else:
                arguments.append(name)
        return {"arguments": sorted(set(arguments)), "attributes": [], "blocks": dict(sorted(blocks.items()))}

    def digest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": {}, "data": {}}
        provider_version = None
        for fqn, spec in self.types.items():
            if spec.get("kind") != "class" or "initializer" not in spec:
                continue
            match = _TYPE_LINK.search(_docs_text(spec))
            params = spec["initializer"].get("parameters", [])
            config = next((p for p in params if p["name"] == "config"), None)
            if not match or config is None or "fqn" not in config["type"]:
                continue
            provider_version = match["version"]
            node = self.struct_node(config["type"]["fqn"])
            getters = {
                self.snake(p)
                for p in spec.get("properties", [])
                if not p.get("static") and not p["name"].endswith("Input") and p["name"] != "tfResourceType"
            }
            node["attributes"] = sorted(getters - set(node["arguments"]) - set(node["blocks"]))
            kind = "resource" if match["kind"] == "resources" else "data"
            out[kind][match["type"]] = node
        return {
            "provider_version": provider_version,
            "source": f"{NPM_PACKAGE}@{self.package_version} (.jsii)",
            "resource": dict(sorted(out["resource"].items())),
            "data": dict(sorted(out["data"].items())),
        }


def from_jsii(assembly: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The digest, and the camelCase names converted by rule because no registry link named them."""
    reader = _Jsii(assembly)
    return reader.digest(), reader.converted


def _schema_block(block: dict[str, Any]) -> dict[str, Any]:
    attributes = block.get("attributes", {})
    return {
        "arguments": sorted(n for n, a in attributes.items() if a.get("optional") or a.get("required")),
        "attributes": sorted(n for n, a in attributes.items() if not (a.get("optional") or a.get("required"))),
        "blocks": {n: _schema_block(b["block"]) for n, b in sorted(block.get("block_types", {}).items())},
    }


def from_terraform_schema(schema: dict[str, Any], source: str = "registry.terraform.io/hashicorp/aws") -> dict[str, Any]:
    """The digest of `terraform providers schema -json` output for the aws provider."""
    provider = schema["provider_schemas"][source]
    return {
        "provider_version": None,
        "source": "terraform providers schema -json",
        "resource": {t: _schema_block(s["block"]) for t, s in sorted(provider.get("resource_schemas", {}).items())},
        "data": {t: _schema_block(s["block"]) for t, s in sorted(provider.get("data_source_schemas", {}).items())},
    }


META_ARGUMENTS = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}
_REFERENCE = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)")


def _unquote(name: str) -> str:
    return name.strip('"')


def _walk_body(body: dict[str, Any], path: tuple[str, ...], found: set[tuple[str, ...]], top: bool) -> None:
    for key, value in body.items():
        if key.startswith("__") or (top and key in META_ARGUMENTS):
            continue
        if key == "dynamic":
            for entry in value:
                for name, spec in entry.items():
                    found.add((*path, "block", _unquote(name)))
                    for content in spec.get("content", []):
                        _walk_body(content, (*path, _unquote(name)), found, False)
            continue
        blocks = [v for v in value if isinstance(v, dict) and v.get("__is_block__")] if isinstance(value, list) else []
        if blocks:
            found.add((*path, "block", key))
            for block in blocks:
                _walk_body(block, (*path, key), found, False)
        else:
            found.add((*path, "argument", key))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def module_usage(directory: Path) -> set[tuple[str, ...]]:
    """What one module's .tf files use of the provider, parsed with python-hcl2.

    Entries: (kind, type) for each resource/data source; (kind, type, *blocks, "argument"|"block", name)
    for each argument and nested block set; (kind, type, "reference", attribute) for each attribute read
    as `[data.]type.label[...].attribute` from a resource or data source declared in the same module.
    """
    import hcl2  # python-hcl2: in the dev venv only

    found: set[tuple[str, ...]] = set()
    declared: dict[tuple[str, str], str] = {}
    parsed = [hcl2.load(path.open(encoding="utf-8")) for path in sorted(directory.glob("*.tf"))]
    for document in parsed:
        for kind in ("resource", "data"):
            for entry in document.get(kind, []):
                for type_name, labels in entry.items():
                    type_name = _unquote(type_name)
                    if not type_name.startswith("aws_"):
                        continue
                    found.add((kind, type_name))
                    for label, body in labels.items():
                        declared[(("data." if kind == "data" else "") + type_name, _unquote(label))] = kind
                        _walk_body(body, (kind, type_name), found, True)
    for document in parsed:
        for text in _strings(document):
            for match in _REFERENCE.finditer(text):
                prefix, type_name, label, attribute = match.groups()
                kind = declared.get(((prefix or "") + type_name, label))
                if kind:
                    found.add((kind, type_name, "reference", attribute))
    return found


def missing_from(digest: dict[str, Any], usage: set[tuple[str, ...]]) -> list[str]:
    """Each use the digest does not know, as `kind.type.block.name`."""
    missing = []
    for entry in sorted(usage):
        kind, type_name, *rest = entry
        node = digest[kind].get(type_name)
        if node is None:
            missing.append(f"{kind}.{type_name}")
            continue
        if not rest:
            continue
        *blocks, role, name = rest
        for block in blocks:
            node = node["blocks"].get(block) if node else None
        if node is None:
            continue  # the enclosing block is reported on its own entry
        known = {
            "argument": node["arguments"],
            "block": node["blocks"],
            "reference": [*node["arguments"], *node["attributes"], *node["blocks"]],
        }[role]
        if name not in known:
            missing.append(".".join([kind, type_name, *blocks, f"{name} ({role})"]))
    return missing


def load_digest(path: Path = DIGEST_PATH) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def fetch_jsii(workdir: Path, version: str = NPM_VERSION) -> Path:
    """`npm pack` the package into workdir (no install, no scripts) and unpack its .jsii."""
    subprocess.run(["npm", "pack", "--silent", f"{NPM_PACKAGE}@{version}"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    tarball = next(workdir.glob("*.tgz"))
    with tarfile.open(tarball) as archive:
        member = archive.getmember("package/.jsii")
        archive.extractall(workdir, members=[member], filter="data")
    return workdir / "package" / ".jsii"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsii", type=Path, help="a .jsii file already on disk (default: npm pack into a temp dir)")
    parser.add_argument("--version", default=NPM_VERSION, help=f"{NPM_PACKAGE} version (default {NPM_VERSION})")
    parser.add_argument("--output", type=Path, default=DIGEST_PATH)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        jsii_path = args.jsii or fetch_jsii(Path(tmp), args.version)
        assembly = json.loads(jsii_path.read_text(encoding="utf-8"))
    digest, converted = from_jsii(assembly)
    text = json.dumps(digest, separators=(",", ":"), sort_keys=True)
    # mtime=0: the same schema gives the same bytes, so a regenerated digest shows no spurious diff.
    with open(args.output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write(text.encode())
    print(
        f"provider {digest['provider_version']} from {digest['source']}: {len(digest['resource'])} resources, "
        f"{len(digest['data'])} data sources; {len(converted)} names converted by rule (no registry link); "
        f"{args.output.stat().st_size} bytes -> {args.output.relative_to(REPO_ROOT) if args.output.is_relative_to(REPO_ROOT) else args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
