"""`approved-amis check-plan` on plans made for real by Terraform against an emulator holding seeded AMIs."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from sarif import loader
from sarif_pydantic import Sarif

from support.check_plan_support import (
    FIXTURES,
    Run,
    SeededAmis,
    approved_amis,
    copy_root,
    env_for,
    plan_json,
    seed_amis,
    seed_verdict_amis,
    terraform,
)
from harness.emulator import running_emulator
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

FLEET = FIXTURES / "fleet"
WILD = FIXTURES / "wild"
VERSIONS = FIXTURES / "versions"
RULE = ["--tag-key", "Environment", "--tag-value", "Prod"]
EXPECTED = read_yaml(FIXTURES / "fleet-findings.yaml")
VERDICTS_EXPECTED = read_yaml(FIXTURES / "verdicts-findings.yaml")
WILD_EXPECTED = read_yaml(FIXTURES / "wild-findings.yaml")
VERSIONS_EXPECTED = read_yaml(FIXTURES / "versions-findings.yaml")
ONE_LINE = re.compile(r"^approved-amis: error: [^\n]+\n$")


@dataclass(frozen=True)
class Plans:
    url: str
    amis: SeededAmis
    fleet: Path  # plan JSON of the fleet root (every kind of launch)
    fleet_text: Path  # the same plan as `terraform plan` prints it for people
    no_ec2: Path  # plan JSON of a root without EC2 resources
    lifecycle: Path  # plan JSON with an update, a no-op and a delete of launch templates
    state_file: Path  # terraform.tfstate of the applied lifecycle root
    state_json: Path  # that state as `terraform show -json` prints it (the lifecycle plan's prior_state)
    wild: Path  # plan JSON of the wild root (shapes of public modules)
    versions: Path  # plan JSON of the versions root (template version forms, for_each keys)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plans]:
    scratch = tmp_path_factory.mktemp("check-plan")
    with running_emulator() as url:
        amis = seed_amis(url)

        def fleet() -> tuple[Path, Path]:
            plan = plan_json(FLEET, env_for(url, scratch / "tf-fleet", amis.tf_vars()), scratch / "fleet.tfplan")
            return plan, plan.with_suffix(".txt")

        def lifecycle() -> tuple[Path, Path, Path]:
            root = copy_root("lifecycle", scratch)
            env = env_for(url, scratch / "tf-lifecycle", {"TF_VAR_ami_id": amis.untagged})
            terraform(["init", "-input=false", "-no-color"], root, env)
            terraform(["apply", "-input=false", "-no-color", "-auto-approve"], root, env)
            changes = ("-var=keep_retired=false", "-var=description=second")
            plan = plan_json(root, env, scratch / "lifecycle.tfplan", *changes, initialised=True)
            state_json = scratch / "state.json"
            state_json.write_text(json.dumps(json.loads(plan.read_text())["prior_state"]))
            return plan, root / "terraform.tfstate", state_json

        def no_ec2() -> Path:
            return plan_json(FIXTURES / "no-ec2", env_for(url, scratch / "tf-no-ec2"), scratch / "no-ec2.tfplan")

        def wild() -> Path:
            return plan_json(WILD, env_for(url, scratch / "tf-wild", amis.tf_vars()), scratch / "wild.tfplan")

        def versions() -> Path:
            return plan_json(VERSIONS, env_for(url, scratch / "tf-versions", amis.tf_vars()), scratch / "versions.tfplan")

        with ThreadPoolExecutor(max_workers=4) as pool:
            fleet_done, lifecycle_done, no_ec2_done = pool.submit(fleet), pool.submit(lifecycle), pool.submit(no_ec2)
            wild_done, versions_done = pool.submit(wild), pool.submit(versions)
            (fleet_plan, fleet_text), (lifecycle_plan, state_file, state_json) = fleet_done.result(), lifecycle_done.result()
            yield Plans(
                url, amis, fleet_plan, fleet_text, no_ec2_done.result(), lifecycle_plan, state_file, state_json,
                wild_done.result(), versions_done.result(),
            )


@pytest.fixture(scope="module")
def fleet_json(plans: Plans) -> Run:
    return approved_amis(plans.url, "check-plan", str(plans.fleet), *RULE, "--root", str(FLEET), "--format", "json")


def expected_ami(amis: SeededAmis, name: str | None) -> str | None:
    if name == "sensitive":
        return "(sensitive)"
    return None if name is None else getattr(amis, name)


def assert_findings(findings: list[dict[str, Any]], expected: list[dict[str, Any]], amis: SeededAmis) -> None:
    """Exactly the expected findings (address, kind, AMI, verdict), each reason holding the expected words."""

    def key(address: str, kind: str, ami: str | None) -> tuple[str, str, str | None]:
        return address, kind, ami

    found = Counter((*key(f["address"], f["kind"], f["ami_id"]), f["verdict"]) for f in findings)
    wanted = Counter(
        (*key(e["address"], e.get("kind", "ami"), expected_ami(amis, e["ami"])), e["verdict"]) for e in expected
    )
    assert found == wanted
    for entry in expected:
        wanted_key = key(entry["address"], entry.get("kind", "ami"), expected_ami(amis, entry["ami"]))
        matching = [f for f in findings if key(f["address"], f["kind"], f["ami_id"]) == wanted_key]
        assert any(all(word in f["reason"] for word in entry["reason"]) for f in matching), (entry, matching)


def test_every_planned_launch_is_found_and_classified(plans: Plans, fleet_json: Run) -> None:
    assert_findings(json.loads(fleet_json.stdout), EXPECTED, plans.amis)


@pytest.fixture(scope="module")
def wild_json(plans: Plans) -> Run:
    return approved_amis(plans.url, "check-plan", str(plans.wild), *RULE, "--root", str(WILD), "--format", "json")


def test_every_launch_of_the_public_shapes_is_found_and_classified(plans: Plans, wild_json: Run) -> None:
    findings = json.loads(wild_json.stdout)
    assert_findings([f for f in findings if f["address"] != "aws_instance.amazon"], WILD_EXPECTED, plans.amis)
    assert wild_json.code == 1


@pytest.fixture(scope="module")
def versions_json(plans: Plans) -> Run:
    return approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS), "--format", "json")


def test_each_launch_takes_the_template_version_it_names_and_the_template_of_its_key(
    plans: Plans, versions_json: Run
) -> None:
    """A launch without a version takes the default version, not the latest a data source reports."""
    assert_findings(json.loads(versions_json.stdout), VERSIONS_EXPECTED, plans.amis)
    assert versions_json.code == 1


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_a_sensitive_ami_id_is_never_printed_and_still_classified(plans: Plans, fmt: str) -> None:
    result = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS),
                           "--format", fmt, "--fail-on", "unknown")
    assert plans.amis.secret not in result.stdout + result.stderr
    if fmt == "json":
        (finding,) = [f for f in json.loads(result.stdout) if f["address"] == "aws_instance.sensitive"]
        assert (finding["ami_id"], finding["verdict"], finding["sensitive"]) == ("(sensitive)", "approved", True)
    if fmt == "table":
        (row,) = [line for line in result.stdout.splitlines() if line.startswith("aws_instance.sensitive ")]
        assert row.split()[1:3] == ["(sensitive)", "approved"]
    # Unapproved, the finding is in the SARIF, still without the ID.
    strict = approved_amis(plans.url, "check-plan", str(plans.versions), "--tag-key", "Environment", "--tag-value",
                           "Staging", "--format", fmt)
    assert plans.amis.secret not in strict.stdout + strict.stderr
    assert "(sensitive)" in strict.stdout


def test_an_ami_of_another_region_of_the_plan_is_named_where_it_exists(wild_json: Run) -> None:
    (finding,) = [f for f in json.loads(wild_json.stdout) if f["address"] == "aws_instance.west_with_east_ami"]
    assert finding["verdict"] == "unknown"
    assert "not found in us-west-2; it exists in us-east-1" in finding["reason"]
    assert "AMI IDs are regional" in finding["reason"] and "CopyImage" in finding["reason"]


def test_an_ami_found_nowhere_says_that_ids_are_regional(fleet_json: Run) -> None:
    (finding,) = [f for f in json.loads(fleet_json.stdout) if f["address"] == "aws_instance.deregistered"]
    assert "AMI IDs are regional" in finding["reason"], finding


def test_an_amazon_ami_is_handed_to_the_classifier_in_its_region(plans: Plans, wild_json: Run) -> None:
    plan = json.loads(plans.wild.read_text())
    (looked_up,) = [r for r in plan["prior_state"]["values"]["root_module"]["resources"] if r["address"] == "data.aws_ami.amazon"]
    assert looked_up["values"]["image_owner_alias"] == "amazon"
    (finding,) = [f for f in json.loads(wild_json.stdout) if f["address"] == "aws_instance.amazon"]
    assert (finding["kind"], finding["ami_id"]) == ("ami", looked_up["values"]["id"])
    assert finding["verdict"] != "approved"
    assert "not found" not in finding["reason"]  # described in us-east-1, where the data source found it
    by_owner = approved_amis(plans.url, "check-plan", str(plans.wild), *RULE, "--owner", "amazon", "--format", "json")
    (approved,) = [f for f in json.loads(by_owner.stdout) if f["address"] == "aws_instance.amazon"]
    assert approved["verdict"] == "approved"


def test_regions_come_from_the_plan_and_the_fallback_says_so(plans: Plans, tmp_path: Path) -> None:
    """The fleet's provider region is a constant; without it, its groups' availability zones show it; without
    those too, --region is used and every reason says so."""
    document = json.loads(plans.fleet.read_text())
    del document["configuration"]["provider_config"]["aws"]["expressions"]["region"]
    evidence = tmp_path / "no-region.json"
    evidence.write_text(json.dumps(document))
    document["planned_values"] = {}
    document["prior_state"] = {}
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(document))
    west = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2"}
    from_plan = approved_amis(plans.url, "check-plan", str(evidence), *RULE, "--format", "json", extra_env=west)
    from_flag = approved_amis(plans.url, "check-plan", str(bare), *RULE, "--region", "us-east-1", "--format", "json")
    for result in (from_plan, from_flag):
        assert result.code == 1, result.stderr
        approved = [f for f in json.loads(result.stdout) if f["address"] == "aws_instance.approved"]
        assert [f["verdict"] for f in approved] == ["approved"], approved
    assert not any("from --region" in f["reason"] for f in json.loads(from_plan.stdout))
    with_ids = [f for f in json.loads(from_flag.stdout) if f["kind"] == "ami" and f["ami_id"]]
    assert with_ids and all("region us-east-1 from --region/AWS_REGION" in f["reason"] for f in with_ids)


def test_json_findings_carry_the_documented_fields(fleet_json: Run) -> None:
    for finding in json.loads(fleet_json.stdout):
        assert {"address", "resource_type", "kind", "ami_id", "verdict", "reason"} <= set(finding)
        assert finding["kind"] in {"ami", "floating-version", "launch-configuration", "aws-managed"}
        assert finding["verdict"] in {"approved", "unapproved", "unknown"}
        assert finding["address"].split(".")[-2] == finding["resource_type"]
        assert finding["ami_id"] is None or re.fullmatch(r"ami-[0-9a-f]{17}", finding["ami_id"])
        assert finding["reason"]
    assert fleet_json.code == 1


def declaring_block(path: Path, line: int) -> str:
    """The `resource "type" "name"` (or module) line of the block that encloses `line`."""
    lines = path.read_text().splitlines()[:line]
    return next(text for text in reversed(lines) if re.match(r'^\s*(resource|module) "', text)).strip()


def test_findings_point_at_the_tf_file_and_line_that_declare_them(fleet_json: Run) -> None:
    for finding in json.loads(fleet_json.stdout):
        *modules, resource_type, name = re.sub(r"\[[^\]]*\]", "", finding["address"]).split(".")
        directory = {
            (): "",
            ("module", "app"): "modules/app/",
            ("module", "app", "module", "server"): "modules/server/",
            ("module", "golden_template"): "modules/template/",
        }[tuple(modules)]
        assert finding["file"] == f"tests/fixtures/check-plan/fleet/{directory}main.tf", finding
        assert declaring_block(REPO_ROOT / finding["file"], finding["line"]) == f'resource "{resource_type}" "{name}" {{'


def test_deletes_and_no_ops_are_not_findings_updates_are(plans: Plans) -> None:
    actions = {rc["address"]: rc["change"]["actions"] for rc in json.loads(plans.lifecycle.read_text())["resource_changes"]}
    assert actions == {"aws_launch_template.unchanged": ["no-op"], "aws_launch_template.updated": ["update"], "aws_launch_template.retired[0]": ["delete"]}
    result = approved_amis(plans.url, "check-plan", str(plans.lifecycle), *RULE, "--format", "json")
    findings = json.loads(result.stdout)
    assert [(f["address"], f["ami_id"], f["verdict"]) for f in findings] == [
        ("aws_launch_template.updated", plans.amis.untagged, "unapproved")
    ]
    assert result.code == 1


def test_table_lists_every_finding_and_a_summary_line(plans: Plans) -> None:
    result = approved_amis(plans.url, "check-plan", str(plans.fleet), *RULE)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ADDRESS", "AMI", "VERDICT", "REASON"]
    rows = [line for line in lines[1:] if line.strip()][:-1]
    assert sorted(row.split()[0] for row in rows) == sorted(e["address"] for e in EXPECTED)
    counts = Counter(e["verdict"] for e in EXPECTED)
    assert lines[-1] == (
        f"{len(EXPECTED)} planned AMI uses: {counts['approved']} approved, "
        f"{counts['unapproved']} unapproved, {counts['unknown']} unknown"
    )
    assert result.code == 1


def test_exit_codes_follow_the_verdicts(plans: Plans) -> None:
    amis = plans.amis
    approve_the_rest = [f"--ami-id={ami}" for ami in (amis.wrong_case, amis.untagged, amis.template)]
    plan = str(plans.fleet)
    assert approved_amis(plans.url, "check-plan", plan, *RULE).code == 1
    # Every AMI approved: what still fails are the groups on $Latest/$Default and the launch
    # configurations whose AMI is not approved by ID.
    everything = approved_amis(plans.url, "check-plan", plan, *RULE, *approve_the_rest, "--format", "json")
    failing = [f for f in json.loads(everything.stdout) if f["verdict"] == "unapproved"]
    assert {f["kind"] for f in failing} == {"floating-version", "launch-configuration"}
    assert [f["address"] for f in failing if f["kind"] == "launch-configuration"] == ["aws_autoscaling_group.legacy_external"]
    assert everything.code == 1
    lifecycle = str(plans.lifecycle)
    assert approved_amis(plans.url, "check-plan", lifecycle, *RULE, f"--ami-id={amis.untagged}").code == 0
    assert approved_amis(plans.url, "check-plan", plan, *RULE, *approve_the_rest, "--fail-on", "unknown").code == 1
    by_owner = approved_amis(plans.url, "check-plan", plan, *RULE, "--owner", "123456789012", "--format", "json")
    verdicts = Counter(f["verdict"] for f in json.loads(by_owner.stdout))
    # The owner approves every AMI it can see; the deregistered one and those the plan cannot tell stay
    # unknown; the owner approves no group on $Latest/$Default and no launch configuration.
    exposures = [e for e in EXPECTED if e.get("kind", "ami") != "ami"]
    unknown = [e for e in EXPECTED if e.get("kind", "ami") == "ami" and e["ami"] in (None, "deregistered")]
    assert verdicts == Counter(
        approved=len(EXPECTED) - len(unknown) - len(exposures), unknown=len(unknown), unapproved=len(exposures)
    )
    assert by_owner.code == 1


def test_sarif_reads_back_with_sarif_libraries(plans: Plans, fleet_json: Run, tmp_path: Path) -> None:
    report = tmp_path / "approved-amis.sarif"
    result = approved_amis(
        plans.url, "check-plan", str(plans.fleet), *RULE, "--root", str(FLEET), "--format", "sarif", "--output", str(report)
    )
    assert result.code == 1
    assert "ADDRESS" in result.stdout.splitlines()[0]  # the table still goes to the log

    document = Sarif.model_validate(json.loads(report.read_text()))
    assert document.version == "2.1.0"
    (run,) = document.runs
    assert run.tool.driver.name == "approved-amis"
    rules = run.tool.driver.rules or []
    assert {rule.id for rule in rules} == {
        "unapproved-ami", "unknown-ami", "floating-version", "launch-configuration", "ami-parameter"}
    assert all(rule.help and rule.help.text for rule in rules)

    sarif_file = loader.load_sarif_file(str(report))
    records = sarif_file.get_records()
    findings = [f for f in json.loads(fleet_json.stdout) if f["verdict"] != "approved"]
    assert sarif_file.get_result_count() == len(findings)
    level = {"unapproved": "error", "unknown": "warning"}
    assert sorted((r["Location"], r["Line"], r["Severity"], r["Code"]) for r in records) == sorted(
        (f["file"], f["line"], level[f["verdict"]], rule_of(f)) for f in findings
    )
    # Each kind of finding is filed under its own rule.
    assert {rule_of(f) for f in findings} == {"unapproved-ami", "unknown-ami", "floating-version", "launch-configuration"}
    for sarif_result in run.results or []:
        (location,) = sarif_result.locations or []
        (logical,) = location.logical_locations or []
        assert logical.fully_qualified_name in sarif_result.message.text


def rule_of(finding: dict[str, Any]) -> str:
    if finding["verdict"] == "unknown":
        return "unknown-ami"
    return {"floating-version": "floating-version", "launch-configuration": "launch-configuration",
            "ami-parameter": "ami-parameter"}.get(finding["kind"], "unapproved-ami")


def test_an_image_read_from_a_parameter_outside_the_approved_paths_is_a_finding(plans: Plans, fleet_json: Run) -> None:
    """aws_launch_template.from_ssm reads resolve:ssm:/golden/ami-id."""
    outside = approved_amis(plans.url, "check-plan", str(plans.fleet), *RULE, "--ami-parameter-path", "/approved/*",
                            "--format", "sarif")
    results = Sarif.model_validate(json.loads(outside.stdout)).runs[0].results or []
    (parameter,) = [r for r in results if r.rule_id == "ami-parameter"]
    assert "aws_launch_template.from_ssm" in parameter.message.text and "/golden/ami-id" in parameter.message.text
    assert parameter.level.value == "error"
    inside = approved_amis(plans.url, "check-plan", str(plans.fleet), *RULE, "--ami-parameter-path", "/golden/*",
                           "--root", str(FLEET), "--format", "json")
    assert json.loads(inside.stdout) == json.loads(fleet_json.stdout)
    assert not any(f["kind"] == "ami-parameter" for f in json.loads(fleet_json.stdout))  # no approved paths: no finding


################################################################################
# Waivers: approved-amis:ignore comments and --baseline
################################################################################


def test_an_inline_waiver_is_shown_counted_and_suppressed_in_sarif(plans: Plans, versions_json: Run, tmp_path: Path) -> None:
    findings = json.loads(versions_json.stdout)
    waived = {(f["address"], f["kind"]): f["waiver"] for f in findings if "waiver" in f}
    assert waived == {
        ("aws_instance.number", "ami"): {
            "kind": "inSource",
            "justification": "the dev image, for the load test that ends this sprint "
                             "(approved-amis:ignore at tests/fixtures/check-plan/versions/main.tf:41)",
        },
        ("aws_ec2_fleet.default", "floating-version"): {
            "kind": "inSource",
            "justification": "the fleet is replaced with each release "
                             "(approved-amis:ignore at tests/fixtures/check-plan/versions/main.tf:94)",
        },
    }
    # [floating-version] waives that kind only: the fleet's AMI finding stands.
    assert [f for f in findings if f["address"] == "aws_ec2_fleet.default" and f["kind"] == "ami" and "waiver" not in f]
    assert "; 2 waived (2 by approved-amis:ignore)" in versions_json.stderr
    report = tmp_path / "waived.sarif"
    approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS), "--format", "sarif",
                  "--output", str(report))
    document = json.loads(report.read_text())
    Sarif.model_validate(document)
    suppressed = [r for r in document["runs"][0]["results"] if r.get("suppressions")]
    assert sorted((r["ruleId"], r["suppressions"][0]["kind"]) for r in suppressed) == [
        ("floating-version", "inSource"), ("unapproved-ami", "inSource")]
    assert all(r["suppressions"][0]["justification"] and r["suppressions"][0]["status"] == "accepted" for r in suppressed)


def test_a_waiver_without_a_reason_is_refused(plans: Plans, tmp_path: Path) -> None:
    root = copy_root("versions", tmp_path)
    main = root / "main.tf"
    main.write_text(main.read_text().replace("# approved-amis:ignore the dev image, for the load test that ends this sprint",
                                             "# approved-amis:ignore"))
    result = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(root))
    assert (result.code, result.stdout) == (2, "")
    assert ONE_LINE.match(result.stderr) and "without a reason" in result.stderr and "main.tf:41" in result.stderr
    main.write_text(main.read_text().replace("# approved-amis:ignore\n", "# approved-amis:ignore[floating] fleet\n"))
    result = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(root))
    assert result.code == 2 and ONE_LINE.match(result.stderr) and "no such kind" in result.stderr


def test_a_baseline_waives_known_findings_and_new_ones_fail(plans: Plans, versions_json: Run, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(versions_json.stdout)
    again = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS),
                          "--baseline", str(baseline), "--fail-on", "unknown", "--format", "json")
    assert again.code == 0, again.stderr
    findings = json.loads(again.stdout)
    failing = [f for f in findings if f["verdict"] != "approved"]
    assert failing and all("waiver" in f for f in failing)
    external = [f for f in failing if f["waiver"]["kind"] == "external"]
    assert len(external) == len(failing) - 2
    assert f"; {len(failing)} waived (2 by approved-amis:ignore, {len(external)} by --baseline {baseline})" in again.stderr
    sarif = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS),
                          "--baseline", str(baseline), "--format", "sarif")
    document = json.loads(sarif.stdout)
    Sarif.model_validate(document)
    results = document["runs"][0]["results"]
    assert results and all(r.get("suppressions") for r in results)
    assert sum(r["suppressions"][0]["kind"] == "external" for r in results) == len(external)
    # A finding the baseline does not list fails.
    trimmed = [f for f in json.loads(versions_json.stdout) if f["address"] != "aws_instance.absent"]
    baseline.write_text(json.dumps(trimmed))
    new = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--root", str(VERSIONS),
                        "--baseline", str(baseline), "--format", "json")
    assert new.code == 1
    assert [f["address"] for f in json.loads(new.stdout) if f["verdict"] != "approved" and "waiver" not in f] == [
        "aws_instance.absent"]
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    refused = approved_amis(plans.url, "check-plan", str(plans.versions), *RULE, "--baseline", str(bad))
    assert refused.code == 2 and ONE_LINE.match(refused.stderr) and "--baseline" in refused.stderr


def test_sarif_without_source_falls_back_to_the_address(plans: Plans, tmp_path: Path) -> None:
    result = approved_amis(plans.url, "check-plan", str(plans.lifecycle), *RULE, "--root", str(tmp_path), "--format", "sarif")
    document = Sarif.model_validate(json.loads(result.stdout))
    (sarif_result,) = document.runs[0].results or []
    (location,) = sarif_result.locations or []
    assert location.physical_location is None
    assert [logical.fully_qualified_name for logical in location.logical_locations or []] == ["aws_launch_template.updated"]
    assert sarif_result.level.value == "error"


def rewritten_plan(plans: Plans, tmp_path: Path, **changes: Any) -> Path:
    document = json.loads(plans.fleet.read_text())
    document.update(changes)
    path = tmp_path / "rewritten.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    "case, words",
    [
        ("plan as text", "Terraform's text output, not JSON"),
        ("saved plan file", "is a saved plan file, not its JSON"),
        ("state file", "is a Terraform state file, not a plan"),
        ("state as JSON", "is the JSON of a Terraform state, not of a plan"),
        ("format 2.0", "format_version 2.0"),
        ("missing file", "no such file"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(plans: Plans, tmp_path: Path, case: str, words: str) -> None:
    path = {
        "plan as text": lambda: plans.fleet_text,
        "saved plan file": lambda: plans.fleet.with_suffix(".tfplan"),
        "state file": lambda: plans.state_file,
        "state as JSON": lambda: plans.state_json,
        "format 2.0": lambda: rewritten_plan(plans, tmp_path, format_version="2.0"),
        "missing file": lambda: tmp_path / "absent.json",
    }[case]()
    result = approved_amis(plans.url, "check-plan", str(path), *RULE)
    assert (result.code, result.stdout) == (2, "")
    assert ONE_LINE.match(result.stderr), result.stderr
    assert words in result.stderr


def test_every_1x_format_version_is_read(plans: Plans, tmp_path: Path) -> None:
    result = approved_amis(plans.url, "check-plan", str(rewritten_plan(plans, tmp_path, format_version="1.0")), *RULE)
    assert result.code == 1, result.stderr


def test_plan_without_ec2_resources_exits_0_and_says_so(plans: Plans) -> None:
    result = approved_amis(plans.url, "check-plan", str(plans.no_ec2), *RULE)
    assert result.code == 0
    assert result.stdout.splitlines() == [f"{plans.no_ec2}: no EC2 launch resources (instances, launch templates, "
                                          "Auto Scaling groups, fleets, service-managed compute): nothing to check"]


def test_runtime_and_usage_errors_exit_2(plans: Plans) -> None:
    no_rule = approved_amis(plans.url, "check-plan", str(plans.fleet))
    assert no_rule.code == 2 and ONE_LINE.match(no_rule.stderr) and "--tag-key" in no_rule.stderr
    unreachable = approved_amis(
        "http://127.0.0.1:9", "check-plan", str(plans.fleet), *RULE, extra_env={"AWS_MAX_ATTEMPTS": "1"}
    )
    # A notice that the endpoint does not answer may come first, while the CLI retries; the error is one line.
    *notices, last = unreachable.stderr.splitlines(keepends=True)
    assert unreachable.code == 2 and ONE_LINE.match(last), unreachable.stderr
    assert all(notice.startswith("approved-amis: no answer from ") for notice in notices), unreachable.stderr


def test_plan_from_standard_input(plans: Plans) -> None:
    result = approved_amis(plans.url, "check-plan", "-", *RULE, "--format", "json", stdin=plans.fleet.read_text())
    assert result.code == 1
    assert len(json.loads(result.stdout)) == len(EXPECTED)


def test_several_plans_are_checked_together(plans: Plans, fleet_json: Run) -> None:
    result = approved_amis(plans.url, "check-plan", str(plans.fleet), str(plans.lifecycle), *RULE, "--format", "json")
    addresses = Counter(f["address"] for f in json.loads(result.stdout))
    assert addresses == Counter(f["address"] for f in json.loads(fleet_json.stdout)) + Counter(["aws_launch_template.updated"])
    assert result.code == 1


def test_rule_from_terraform_outputs_gives_the_verdicts_of_the_same_flags(plans: Plans, tmp_path: Path) -> None:
    """The rule a Terraform root applies (its `approval_rule` output) is the rule check-plan enforces."""
    fixture = REPO_ROOT / "tests" / "fixtures" / "approval-rule-root"
    root = tmp_path / "root"
    root.mkdir()
    module = os.path.relpath(REPO_ROOT / "modules" / "approval-rule", root)
    (root / "main.tf").write_text((fixture / "main.tf").read_text().replace("../../../modules/approval-rule", module))
    env = env_for(plans.url, tmp_path / "terraform-data")
    terraform(["init", "-input=false", "-no-color"], root, env)
    terraform(["apply", "-auto-approve", "-input=false", f"-var=approved_ami_ids={json.dumps([plans.amis.wrong_case])}"], root, env)

    plan = str(plans.fleet)
    from_terraform = approved_amis(plans.url, "check-plan", plan, "--from-terraform", str(root), "--format", "json")
    from_flags = approved_amis(plans.url, "check-plan", plan, *RULE, "--ami-id", plans.amis.wrong_case, "--format", "json")
    assert from_terraform.code == from_flags.code == 1, from_terraform.stderr
    assert from_terraform.stdout == from_flags.stdout
    approved_by_id = [f for f in json.loads(from_terraform.stdout) if f["ami_id"] == plans.amis.wrong_case]
    assert approved_by_id and {f["verdict"] for f in approved_by_id} == {"approved"}


################################################################################
# AMIs owned elsewhere and tag keys in another letter case, as IAM reads them
################################################################################


@pytest.fixture(scope="module")
def verdicts(plans: Plans, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The verdicts root planned once against the fleet's emulator, with its own AMIs seeded there."""
    amis = seed_verdict_amis(plans.url)
    scratch = tmp_path_factory.mktemp("check-plan-verdicts")
    env = env_for(plans.url, scratch / "tf", amis.tf_vars())
    return amis, plan_json(FIXTURES / "verdicts", env, scratch / "verdicts.tfplan")


def test_owned_elsewhere_and_key_case_verdicts(plans: Plans, verdicts: tuple[Any, Path]) -> None:
    """A public AMI found by `data "aws_ami"` with owners = ["amazon"] fails the check unless this account
    tagged it; a key in another letter case approves, two such keys are unknown."""
    amis, plan = verdicts
    result = approved_amis(plans.url, "check-plan", str(plan), *RULE, "--format", "json")
    findings = {f["address"]: f for f in json.loads(result.stdout)}
    assert set(findings) == {e["address"] for e in VERDICTS_EXPECTED}
    for expected in VERDICTS_EXPECTED:
        finding = findings[expected["address"]]
        assert (finding["ami_id"], finding["verdict"]) == (getattr(amis, expected["ami"]), expected["verdict"]), finding
        for word in expected["reason"]:
            assert word in finding["reason"], finding
    assert result.code == 1


def test_owner_or_id_approves_the_amazon_lookup(plans: Plans, verdicts: tuple[Any, Path]) -> None:
    amis, plan = verdicts
    for approval in (["--owner", "amazon"], ["--ami-id", amis.amazon]):
        result = approved_amis(plans.url, "check-plan", str(plan), *RULE, *approval, "--format", "json")
        verdicts_by_address = {f["address"]: f["verdict"] for f in json.loads(result.stdout)}
        assert verdicts_by_address["aws_instance.amazon_lookup"] == "approved"
        assert result.code == 0  # the two-key AMI stays unknown, which fails only with --fail-on unknown


@pytest.mark.parametrize("path, words", [("golden-ami/*", "starting with /"), ("/aws/service/*", "not an Amazon /aws/ name")])
def test_a_bad_parameter_path_is_one_line_and_exit_2(path: str, words: str, tmp_path: Path, capsys: Any) -> None:
    from approved_amis import cli

    plan = tmp_path / "plan.json"
    plan.write_text('{"format_version": "1.2", "resource_changes": []}')
    code = cli.main(["check-plan", str(plan), *RULE, "--ami-parameter-path", path])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert ONE_LINE.match(err) and words in err and repr(path) in err
