"""The plan walker on small plan documents written by hand: shapes that real plans take, without Terraform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from approved_amis.check_plan.resources import RESOURCE_TYPES
from approved_amis.check_plan.walker import planned_launches
from approved_amis.classify import AMI, AWS_MANAGED, FLOATING_VERSION, LAUNCH_CONFIGURATION
from harness.yaml_files import read_yaml


def change(address: str, after: dict[str, Any], unknown: dict[str, Any] | None = None, module: str | None = None,
           actions: tuple[str, ...] = ("create",)) -> dict[str, Any]:
    resource_type, name = address.split(".")[-2:]
    rc = {
        "address": f"{module}.{address}" if module else address,
        "mode": "managed",
        "type": resource_type,
        "name": name.split("[")[0],
        "change": {"actions": list(actions), "after": after, "after_unknown": unknown or {}},
    }
    if module:
        rc["module_address"] = module
    return rc


def plan(*changes: dict[str, Any], configuration: dict[str, Any] | None = None,
         prior: list[dict[str, Any]] | None = None, planned: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "resource_changes": list(changes),
        "configuration": configuration or {},
        "prior_state": {"values": {"root_module": {"resources": prior or []}}},
        "planned_values": {"root_module": {"resources": planned or []}},
    }


def launches(document: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(launch.address, launch.kind, launch.ami_id) for launch in planned_launches(document).launches]


def template(address: str, image: str, module: str | None = None) -> dict[str, Any]:
    return change(address, {"image_id": image}, {"id": True, "latest_version": True}, module)


def test_a_dynamic_launch_template_block_leads_to_the_template_of_its_module_instance() -> None:
    """`after.launch_template = [{}]` and no block in the configuration: the module instance's own template."""
    group = change("aws_autoscaling_group.this", {"launch_template": [{}]},
                   {"launch_template": [{"id": True, "name": True, "version": True}]}, module='module.asg["a"]')
    retired = change("aws_launch_template.old", {"image_id": "ami-ccccccccccccccccc"}, module='module.asg["a"]',
                     actions=("delete",))
    document = plan(
        group,
        template("aws_launch_template.this", "ami-aaaaaaaaaaaaaaaaa", 'module.asg["a"]'),
        template("aws_launch_template.this", "ami-bbbbbbbbbbbbbbbbb", 'module.asg["b"]'),
        retired,  # a template being deleted is no candidate
    )
    found = [entry for entry in planned_launches(document).launches if entry.resource_type == "aws_autoscaling_group"]
    assert [(f.ami_id, f.via) for f in found] == [
        ("ami-aaaaaaaaaaaaaaaaa", 'module.asg["a"].aws_launch_template.this, the only candidate: launch_template is a '
                                  "dynamic block the plan does not link")
    ]


def test_a_template_reaching_the_module_through_its_inputs_is_a_candidate() -> None:
    group = change("aws_autoscaling_group.this", {"mixed_instances_policy": [{"launch_template": [{
        "launch_template_specification": [{}],
        "override": [{"instance_type": "m5.large", "launch_template_specification": [{}]}],
    }]}]}, {"mixed_instances_policy": [{"launch_template": [{
        "launch_template_specification": [{"launch_template_id": True, "version": True}],
        "override": [{"launch_template_specification": [{"launch_template_id": True, "version": True}]}],
    }]}]}, module="module.mixed")
    configuration = {"root_module": {"module_calls": {
        "mixed": {"expressions": {"override": {"references": ["module.dev.id", "module.dev"]}}, "module": {}},
        "dev": {"module": {"outputs": {"id": {"expression": {"references": ["aws_launch_template.this.id", "aws_launch_template.this"]}}}}},
    }}}
    document = plan(group, template("aws_launch_template.this", "ami-aaaaaaaaaaaaaaaaa", "module.mixed"),
                    template("aws_launch_template.this", "ami-ddddddddddddddddd", "module.dev"), configuration=configuration)
    group_amis = [ami for address, _, ami in launches(document) if address.endswith("aws_autoscaling_group.this")]
    # The group's own specification and its override each name both candidates.
    assert sorted(group_amis) == ["ami-aaaaaaaaaaaaaaaaa"] * 2 + ["ami-ddddddddddddddddd"] * 2


def test_an_override_with_its_own_template_is_a_launch_of_its_own() -> None:
    group = change("aws_autoscaling_group.g", {"mixed_instances_policy": [{"launch_template": [{
        "launch_template_specification": [{"version": "1"}],
        "override": [{"instance_type": "t3.large"}, {"instance_type": "m5.large", "launch_template_specification": [{"version": "1"}]}],
    }]}]}, {"mixed_instances_policy": [{"launch_template": [{
        "launch_template_specification": [{"launch_template_id": True}],
        "override": [{"launch_template_specification": True}, {"launch_template_specification": [{"launch_template_id": True}]}],
    }]}]})
    configuration = {"root_module": {"resources": [{
        "address": "aws_autoscaling_group.g",
        "expressions": {"mixed_instances_policy": [{"launch_template": [{
            "launch_template_specification": [{"launch_template_id": {"references": ["aws_launch_template.main.id"]}, "version": {"constant_value": "1"}}],
            "override": [
                {"instance_type": {"constant_value": "t3.large"}},
                {"launch_template_specification": [{"launch_template_id": {"references": ["aws_launch_template.dev.id"]}, "version": {"constant_value": "1"}}]},
            ],
        }]}]},
    }]}}
    document = plan(group, template("aws_launch_template.main", "ami-aaaaaaaaaaaaaaaaa"),
                    template("aws_launch_template.dev", "ami-ddddddddddddddddd"), configuration=configuration)
    group_launches = [(kind, ami) for address, kind, ami in launches(document) if address == "aws_autoscaling_group.g"]
    # The group's template, and the one the second override names; the first override uses the group's.
    assert sorted(group_launches) == [(AMI, "ami-aaaaaaaaaaaaaaaaa"), (AMI, "ami-ddddddddddddddddd")]


def test_an_override_whose_template_cannot_be_read_is_unknown_never_dropped() -> None:
    group = change("aws_autoscaling_group.g", {"mixed_instances_policy": [{"launch_template": [{
        "launch_template_specification": [{"launch_template_id": "lt-0123456789abcdef0", "version": "1"}],
        "override": [{"instance_type": "m5.large", "launch_template_specification": [{}]}],
    }]}]}, {"mixed_instances_policy": [{"launch_template": [{
        "override": [{"launch_template_specification": [{"launch_template_id": True, "version": True}]}],
    }]}]})
    found = planned_launches(plan(group)).launches
    unreadable = [f for f in found if f.ami_id is None and f.external is None]
    assert len(unreadable) == 1 and "override.launch_template_specification" not in (unreadable[0].via or "")
    assert "known after apply" in (unreadable[0].unknown_reason or "")
    assert [f.external.identifier for f in found if f.external] == ["lt-0123456789abcdef0"]


def test_groups_following_latest_or_default_and_launch_configurations_are_their_own_kind() -> None:
    configuration = {"root_module": {"resources": [
        {"address": "aws_autoscaling_group.unset", "expressions": {"launch_template": [{"id": {"references": ["aws_launch_template.t.id"]}}]}},
        {"address": "aws_autoscaling_group.pinned", "expressions": {"launch_template": [{
            "id": {"references": ["aws_launch_template.t.id"]}, "version": {"references": ["aws_launch_template.t.latest_version"]}}]}},
    ]}}
    document = plan(
        template("aws_launch_template.t", "ami-aaaaaaaaaaaaaaaaa"),
        change("aws_autoscaling_group.latest", {"launch_template": [{"id": "lt-0123456789abcdef0", "version": "$Latest"}]}),
        change("aws_autoscaling_group.unset", {"launch_template": [{}]}, {"launch_template": [{"id": True, "version": True}]}),
        change("aws_autoscaling_group.pinned", {"launch_template": [{}]}, {"launch_template": [{"id": True, "version": True}]}),
        change("aws_launch_configuration.lc", {"image_id": "ami-ccccccccccccccccc"}),
        change("aws_autoscaling_group.on_lc", {"launch_configuration": "lc-name"}),
        configuration=configuration,
    )
    kinds = {(address, kind) for address, kind, _ in launches(document) if kind != AMI}
    assert kinds == {
        ("aws_autoscaling_group.latest", FLOATING_VERSION),
        ("aws_autoscaling_group.unset", FLOATING_VERSION),
        ("aws_launch_configuration.lc", LAUNCH_CONFIGURATION),
        ("aws_autoscaling_group.on_lc", LAUNCH_CONFIGURATION),
    }


def test_region_of_each_provider_configuration_comes_from_the_plan() -> None:
    configuration = {
        "provider_config": {
            "aws": {"name": "aws", "expressions": {"region": {"references": ["local.region"]}}},
            "aws.west": {"name": "aws", "alias": "west", "expressions": {"region": {"references": ["local.west"]}}},
            "aws.blind": {"name": "aws", "alias": "blind", "expressions": {"region": {"references": ["local.blind"]}}},
        },
        "root_module": {"resources": [
            {"address": "aws_instance.east", "mode": "managed", "type": "aws_instance", "name": "east", "provider_config_key": "aws"},
            {"address": "aws_instance.west", "mode": "managed", "type": "aws_instance", "name": "west", "provider_config_key": "aws.west"},
            {"address": "aws_instance.blind", "mode": "managed", "type": "aws_instance", "name": "blind", "provider_config_key": "aws.blind"},
            {"address": "data.aws_availability_zones.east", "mode": "data", "type": "aws_availability_zones", "name": "east", "provider_config_key": "aws"},
            {"address": "data.aws_ssm_parameter.west", "mode": "data", "type": "aws_ssm_parameter", "name": "west", "provider_config_key": "aws.west"},
        ]},
    }
    prior = [
        {"address": "data.aws_availability_zones.east", "mode": "data", "type": "aws_availability_zones", "name": "east",
         "values": {"names": ["eu-west-1a", "eu-west-1b"]}},
        {"address": "data.aws_ssm_parameter.west", "mode": "data", "type": "aws_ssm_parameter", "name": "west",
         "values": {"arn": "arn:aws:ssm:us-west-2:123456789012:parameter/x"}},
    ]
    document = plan(*(change(f"aws_instance.{name}", {"ami": "ami-aaaaaaaaaaaaaaaaa"}) for name in ("east", "west", "blind")),
                    configuration=configuration, prior=prior)
    regions = {launch.address: (launch.region, launch.region_source) for launch in planned_launches(document).launches}
    assert regions == {
        "aws_instance.east": ("eu-west-1", 'provider "aws" reads or plans data.aws_availability_zones.east in eu-west-1'),
        "aws_instance.west": ("us-west-2", 'provider "aws.west" reads or plans data.aws_ssm_parameter.west in us-west-2'),
        "aws_instance.blind": (None, None),
    }


def test_disagreeing_evidence_gives_no_region() -> None:
    configuration = {"root_module": {"resources": [
        {"address": "aws_instance.a", "mode": "managed", "type": "aws_instance", "name": "a", "provider_config_key": "aws"},
    ]}}
    planned = [{"address": "aws_instance.a", "mode": "managed", "type": "aws_instance", "name": "a", "values": {"availability_zone": "us-east-1a"}},
               {"address": "aws_instance.a", "mode": "managed", "type": "aws_instance", "name": "a", "values": {"availability_zone": "eu-west-1a"}}]
    (launch,) = planned_launches(plan(change("aws_instance.a", {"ami": "ami-aaaaaaaaaaaaaaaaa"}), configuration=configuration, planned=planned)).launches
    assert launch.region is None


def test_services_that_launch_ec2_name_their_ami_or_say_aws_picks_it() -> None:
    document = plan(
        change("aws_batch_compute_environment.ec2", {"compute_resources": [{"type": "EC2", "ec2_configuration": [
            {"image_type": "ECS_AL2", "image_id_override": "ami-aaaaaaaaaaaaaaaaa"}, {"image_type": "ECS_AL2_NVIDIA"}]}]}),
        change("aws_batch_compute_environment.plain", {"compute_resources": [{"type": "SPOT"}]}),
        change("aws_batch_compute_environment.fargate", {"compute_resources": [{"type": "FARGATE"}]}),
        change("aws_eks_node_group.managed", {"ami_type": "AL2_x86_64", "release_version": "1.29.0-20240129"}),
        change("aws_emr_cluster.c", {"custom_ami_id": "ami-bbbbbbbbbbbbbbbbb"}),
        change("aws_emr_cluster.default", {"release_label": "emr-7.2.0"}),
        change("aws_cloud9_environment_ec2.ide", {"image_id": "resolve:ssm:/aws/service/cloud9/amis/amazonlinux-2023-x86_64"}),
        change("aws_codebuild_fleet.f", {"image_id": "ami-ccccccccccccccccc"}),
        change("aws_codebuild_fleet.default", {}),
        change("aws_imagebuilder_image_recipe.r", {"parent_image": "ami-ddddddddddddddddd"}),
        change("aws_imagebuilder_image_recipe.managed", {"parent_image": "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2-x86/x.x.x"}),
        change("aws_rds_custom_db_engine_version.v", {"source_image_id": "ami-eeeeeeeeeeeeeeeee"}),
    )
    assert sorted(launches(document)) == sorted([
        ("aws_batch_compute_environment.ec2", AMI, "ami-aaaaaaaaaaaaaaaaa"),
        ("aws_batch_compute_environment.plain", AWS_MANAGED, None),
        ("aws_eks_node_group.managed", AWS_MANAGED, None),
        ("aws_emr_cluster.c", AMI, "ami-bbbbbbbbbbbbbbbbb"),
        ("aws_emr_cluster.default", AWS_MANAGED, None),
        ("aws_cloud9_environment_ec2.ide", AWS_MANAGED, None),
        ("aws_codebuild_fleet.f", AMI, "ami-ccccccccccccccccc"),
        ("aws_imagebuilder_image_recipe.r", AMI, "ami-ddddddddddddddddd"),
        ("aws_imagebuilder_image_recipe.managed", AWS_MANAGED, None),
        ("aws_rds_custom_db_engine_version.v", AMI, "ami-eeeeeeeeeeeeeeeee"),
    ])
    (eks,) = [f for f in planned_launches(document).launches if f.resource_type == "aws_eks_node_group"]
    assert "AL2_x86_64" in (eks.unknown_reason or "") and "1.29.0-20240129" in (eks.unknown_reason or "")


def test_an_eks_node_group_launches_its_templates_image_or_the_aws_managed_one() -> None:
    configuration = {"root_module": {"resources": [
        {"address": "aws_eks_node_group.custom", "expressions": {"launch_template": [{"id": {"references": ["aws_launch_template.custom.id"]}}]}},
        {"address": "aws_eks_node_group.bare", "expressions": {"launch_template": [{"id": {"references": ["aws_launch_template.bare.id"]}}]}},
    ]}}
    document = plan(
        template("aws_launch_template.custom", "ami-aaaaaaaaaaaaaaaaa"),
        change("aws_launch_template.bare", {"instance_type": "t3.micro"}, {"id": True}),
        change("aws_eks_node_group.custom", {"ami_type": "CUSTOM", "launch_template": [{}]}, {"launch_template": [{"id": True}]}),
        change("aws_eks_node_group.bare", {"ami_type": "AL2023_x86_64_STANDARD", "launch_template": [{}]}, {"launch_template": [{"id": True}]}),
        configuration=configuration,
    )
    groups = sorted((a, k, ami) for a, k, ami in launches(document) if "eks" in a)
    assert groups == [("aws_eks_node_group.bare", AWS_MANAGED, None), ("aws_eks_node_group.custom", AMI, "ami-aaaaaaaaaaaaaaaaa")]


################################################################################
# Template versions: which image each launch type takes, per version form (fixtures/check-plan/versions.yaml)
################################################################################

VERSIONS = read_yaml(Path(__file__).parent / "fixtures" / "check-plan" / "versions.yaml")
TEMPLATE_ID = "lt-0123456789abcdef0"
LATEST_AMI, OLDER_AMI = "ami-11111111111111111", "ami-00000000000000000"
TEMPLATE_PATHS = [
    (row.resource_type, reference)
    for row in RESOURCE_TYPES.values()
    for reference in row.templates
]


def template_source(source: str) -> tuple[dict[str, Any], str, bool]:
    """(plan parts, the template's address as a reference, whether its ID is known) for a template source."""
    data_values = {"id": TEMPLATE_ID, "name": "t", "image_id": LATEST_AMI, "latest_version": 3,
                   "default_version": 3 if source == "data_same" else 2}
    if source.startswith("data"):
        prior = [{"address": "data.aws_launch_template.t", "mode": "data", "type": "aws_launch_template", "name": "t",
                  "values": data_values}]
        return {"prior": prior, "changes": []}, "data.aws_launch_template.t", True
    if source == "created":
        rc = change("aws_launch_template.t", {"image_id": LATEST_AMI}, {"id": True, "latest_version": True,
                                                                        "default_version": True})
        return {"prior": [], "changes": [rc]}, "aws_launch_template.t", False
    before = {"id": TEMPLATE_ID, "image_id": OLDER_AMI, "latest_version": 2, "default_version": 2}
    if source == "unchanged":
        after = {**before, "image_id": LATEST_AMI, "latest_version": 3}
        rc = change("aws_launch_template.t", after, actions=("no-op",))
        rc["change"]["before"] = after
        return {"prior": [], "changes": [rc]}, "aws_launch_template.t", True
    moves = source == "updated_default"
    after = {"id": TEMPLATE_ID, "image_id": LATEST_AMI, "update_default_version": moves}
    after |= {} if moves else {"default_version": 2}
    rc = change("aws_launch_template.t", after, {"latest_version": True, "default_version": moves}, actions=("update",))
    rc["change"]["before"] = before
    return {"prior": [], "changes": [rc]}, "aws_launch_template.t", True


def nest(path: tuple[str, ...], leaf: Any) -> Any:
    for name in reversed(path):
        leaf = {name: [leaf]}
    return leaf


def version_plan(resource_type: str, reference: Any, source: str, form: str) -> dict[str, Any]:
    parts, address, id_known = template_source(source)
    spec: dict[str, Any] = {reference.id_key: TEMPLATE_ID} if id_known else {}
    spec_unknown: dict[str, Any] = {} if id_known else {reference.id_key: True}
    spec_expression: dict[str, Any] = {reference.id_key: {"references": [f"{address}.id", address]}}
    if form in ("absent", "unknown", "latest_version"):
        spec_unknown["version"] = True
        if form == "unknown":
            spec_expression["version"] = {"references": ["var.version"]}
        if form == "latest_version":
            spec_expression["version"] = {"references": [f"{address}.latest_version", address]}
    else:
        spec["version"] = form
        spec_expression["version"] = {"constant_value": form}
    extra = {"compute_resources": [{"type": "EC2"}]} if resource_type == "aws_batch_compute_environment" else {}
    after = nest(reference.path, spec)
    if extra:
        after["compute_resources"][0]["type"] = "EC2"
    launch = change(f"{resource_type}.l", after, nest(reference.path, spec_unknown))
    configuration = {"root_module": {"resources": [
        {"address": f"{resource_type}.l", "mode": "managed", "type": resource_type, "name": "l",
         "expressions": nest(reference.path, spec_expression)},
    ]}}
    return plan(*parts["changes"], launch, configuration=configuration, prior=parts["prior"])


def taken(found: list[Any]) -> list[str]:
    out = []
    for launch in found:
        if launch.kind == FLOATING_VERSION:
            out.append("floating")
        elif launch.external is not None and launch.ami_id is None:
            assert launch.external.identifier == TEMPLATE_ID
            out.append(f"read:{launch.external.version}")
        elif launch.kind == AMI:
            out.append(launch.ami_id or "unknown")
    return sorted(out)


@pytest.mark.parametrize("resource_type, reference", TEMPLATE_PATHS,
                         ids=[f"{t}:{'.'.join(r.path)}" for t, r in TEMPLATE_PATHS])
@pytest.mark.parametrize("source", sorted(VERSIONS["templates"]))
def test_a_launch_takes_the_template_version_it_names(resource_type: str, reference: Any, source: str) -> None:
    for form, expected in VERSIONS["templates"][source].items():
        document = version_plan(resource_type, reference, source, str(form))
        found = [f for f in planned_launches(document).launches if f.address == f"{resource_type}.l"]
        wanted = list(expected) if isinstance(expected, list) else [expected]
        if str(form) in VERSIONS["floating"].get(resource_type, []):
            wanted.append("floating")
        assert taken(found) == sorted(wanted), (source, form, [(f.kind, f.ami_id, f.unknown_reason, f.via) for f in found])
        if "unknown" in wanted:
            (unknown,) = [f for f in found if f.kind == AMI and f.ami_id is None and f.external is None]
            assert "does not exist" in (unknown.unknown_reason or "") or "latest version only" in (unknown.unknown_reason or "")


################################################################################
# for_each and count: a launch takes the template of its own key
################################################################################


def keyed(address: str, key: Any, after: dict[str, Any], unknown: dict[str, Any] | None = None,
          module: str | None = None) -> dict[str, Any]:
    rc = change(address, after, unknown, module)
    rc["address"] = f"{rc['address']}[{json.dumps(key)}]"
    rc["index"] = key
    return rc


def keyed_templates(module: str | None = None) -> list[dict[str, Any]]:
    return [keyed("aws_launch_template.node", "golden", {"image_id": "ami-aaaaaaaaaaaaaaaaa"}, {"id": True}, module),
            keyed("aws_launch_template.node", "dev", {"image_id": "ami-ddddddddddddddddd"}, {"id": True}, module)]


def group_amis(document: dict[str, Any], resource_type: str = "aws_autoscaling_group") -> dict[str, list[str | None]]:
    found: dict[str, list[str | None]] = {}
    for launch in planned_launches(document).launches:
        if launch.resource_type == resource_type and launch.kind == AMI:
            found.setdefault(launch.address, []).append(launch.ami_id)
    return {address: sorted(amis, key=str) for address, amis in found.items()}


def test_a_group_indexing_its_template_by_each_key_takes_that_key_only() -> None:
    """`aws_launch_template.node[each.key].id`: the plan's references drop the index; the key says it."""
    expression = {"launch_template": [{"id": {"references": ["aws_launch_template.node", "each.key"]},
                                       "version": {"references": ["aws_launch_template.node", "each.key"]}}]}
    configuration = {"root_module": {"resources": [{"address": "aws_autoscaling_group.node", "expressions": expression}]}}
    groups = [keyed("aws_autoscaling_group.node", key, {"launch_template": [{}]},
                    {"launch_template": [{"id": True, "version": True}]}) for key in ("golden", "dev")]
    document = plan(*keyed_templates(), *groups, configuration=configuration)
    assert group_amis(document) == {'aws_autoscaling_group.node["golden"]': ["ami-aaaaaaaaaaaaaaaaa"],
                                    'aws_autoscaling_group.node["dev"]': ["ami-ddddddddddddddddd"]}


def test_a_key_the_source_does_not_show_as_the_index_falls_back_to_every_template(tmp_path: Path) -> None:
    """`aws_launch_template.node[local.pick[each.key]].id` has the same references as `[each.key]`: where the
    .tf source is read, it decides."""
    expression = {"launch_template": [{"id": {"references": ["aws_launch_template.node", "each.key"]},
                                       "version": {"constant_value": "1"}}]}
    configuration = {"root_module": {"resources": [{"address": "aws_autoscaling_group.node", "expressions": expression}]}}
    groups = [keyed("aws_autoscaling_group.node", key, {"launch_template": [{"version": "1"}]},
                    {"launch_template": [{"id": True}]}) for key in ("golden", "dev")]
    (tmp_path / "main.tf").write_text(
        'resource "aws_autoscaling_group" "node" {\n  launch_template {\n'
        "    id = aws_launch_template.node[local.pick[each.key]].id\n  }\n}\n"
    )
    found: dict[str, list[str | None]] = {}
    for launch in planned_launches(plan(*keyed_templates(), *groups, configuration=configuration), tmp_path).launches:
        if launch.resource_type == "aws_autoscaling_group":
            found.setdefault(launch.address, []).append(launch.ami_id)
    both = ["ami-aaaaaaaaaaaaaaaaa", "ami-ddddddddddddddddd"]
    assert {address: sorted(amis, key=str) for address, amis in found.items()} == {
        'aws_autoscaling_group.node["golden"]': both, 'aws_autoscaling_group.node["dev"]': both}


def test_a_key_through_another_value_falls_back_to_every_candidate() -> None:
    """`aws_launch_template.node[each.value.template]`: the key does not say which; both are candidates."""
    expression = {"launch_template": [{"id": {"references": ["aws_launch_template.node", "each.value.template", "each.value"]}}]}
    configuration = {"root_module": {"resources": [{"address": "aws_autoscaling_group.node", "expressions": expression}]}}
    groups = [keyed("aws_autoscaling_group.node", "golden", {"launch_template": [{"version": "1"}]},
                    {"launch_template": [{"id": True}]})]
    document = plan(*keyed_templates(), *groups, configuration=configuration)
    assert group_amis(document) == {'aws_autoscaling_group.node["golden"]': ["ami-aaaaaaaaaaaaaaaaa", "ami-ddddddddddddddddd"]}


NODE_GROUP_TF = """
resource "aws_eks_node_group" "node" {
  for_each = local.groups
  dynamic "launch_template" {
    for_each = [1]
    content {
      id = aws_launch_template.node[%s].id
    }
  }
}
"""


def test_a_dynamic_block_under_for_each_takes_the_template_of_the_same_key(tmp_path: Path) -> None:
    """The EKS v17 node-group shape: `dynamic "launch_template"` with `aws_launch_template.workers[each.key].id`,
    one template without an image (EKS-optimized) and one with a custom image. The plan leaves the block out;
    the .tf source shows the key. Where the source shows another index, or is not read, every candidate."""
    templates = [keyed("aws_launch_template.node", "golden", {"image_id": "ami-aaaaaaaaaaaaaaaaa"}, {"id": True}),
                 keyed("aws_launch_template.node", "managed", {}, {"id": True})]
    groups = [keyed("aws_eks_node_group.node", key, {"ami_type": "CUSTOM" if key == "golden" else "AL2_x86_64",
                                                     "launch_template": [{}]}, {"launch_template": [{"id": True, "version": True}]})
              for key in ("golden", "managed")]

    def found(source: str | None) -> set[tuple[str, str, str | None]]:
        directory = None
        if source is not None:
            directory = tmp_path / source.replace(".", "-")
            directory.mkdir()
            (directory / "main.tf").write_text(NODE_GROUP_TF % source)
        return {(f.address, f.kind, f.ami_id) for f in planned_launches(plan(*templates, *groups), directory).launches
                if f.resource_type == "aws_eks_node_group"}

    assert found("each.key") == {('aws_eks_node_group.node["golden"]', AMI, "ami-aaaaaaaaaaaaaaaaa"),
                                 ('aws_eks_node_group.node["managed"]', AWS_MANAGED, None)}
    every_candidate = {(f'aws_eks_node_group.node["{key}"]', kind, ami) for key in ("golden", "managed")
                       for kind, ami in ((AMI, "ami-aaaaaaaaaaaaaaaaa"), (AWS_MANAGED, None))}
    assert found("each.value.template") == every_candidate
    assert found(None) == every_candidate


def test_a_module_instance_takes_the_template_its_call_indexes_by_each_key() -> None:
    """`module "group" { for_each = ...; launch_template_id = aws_launch_template.node[each.key].id }`."""
    configuration = {"root_module": {"module_calls": {"group": {
        "expressions": {"launch_template_id": {"references": ["aws_launch_template.node", "each.key"]}},
        "module": {"resources": [{"address": "aws_autoscaling_group.this", "expressions": {
            "launch_template": [{"id": {"references": ["var.launch_template_id"]}, "version": {"constant_value": "1"}}]}}]},
    }}}}
    groups = [change("aws_autoscaling_group.this", {"launch_template": [{"version": "1"}]}, {"launch_template": [{"id": True}]},
                     module=f'module.group["{key}"]') for key in ("golden", "dev")]
    document = plan(*keyed_templates(), *groups, configuration=configuration)
    assert group_amis(document) == {'module.group["golden"].aws_autoscaling_group.this': ["ami-aaaaaaaaaaaaaaaaa"],
                                    'module.group["dev"].aws_autoscaling_group.this': ["ami-ddddddddddddddddd"]}


def test_a_link_through_a_local_is_followed_as_a_dynamic_block_in_its_module_instance() -> None:
    """The self-managed node group shape (terraform-aws-eks): `id = local.launch_template_id` in a module
    under `for_each`, beside its own `aws_launch_template.this[0]`."""
    configuration = {"root_module": {"module_calls": {"ng": {"module": {"resources": [{
        "address": "aws_autoscaling_group.this",
        "expressions": {"launch_template": [{"id": {"references": ["local.launch_template_id"]},
                                             "version": {"references": ["local.launch_template_version"]}}]}}]}}}}}
    parts = []
    for key, ami in (("golden", "ami-aaaaaaaaaaaaaaaaa"), ("dev", "ami-ddddddddddddddddd")):
        module = f'module.ng["{key}"]'
        parts.append(keyed("aws_launch_template.this", 0, {"image_id": ami}, {"id": True}, module))
        parts.append(keyed("aws_autoscaling_group.this", 0, {"launch_template": [{}]},
                           {"launch_template": [{"id": True, "version": True}]}, module))
    document = plan(*parts, configuration=configuration)
    assert group_amis(document) == {'module.ng["golden"].aws_autoscaling_group.this[0]': ["ami-aaaaaaaaaaaaaaaaa"],
                                    'module.ng["dev"].aws_autoscaling_group.this[0]': ["ami-ddddddddddddddddd"]}


################################################################################
# Waiver comments, read where a finding's location is resolved
################################################################################


def test_waiver_comments_in_or_just_above_a_resource_block_are_read(tmp_path: Path) -> None:
    from approved_amis.check_plan.document import Configuration, Locator

    (tmp_path / "main.tf").write_text(
        "# approved-amis:ignore golden image pending its tag\n"
        'resource "aws_instance" "a" {\n'
        '  ami = "ami-aaaaaaaaaaaaaaaaa"\n'
        "}\n\n"
        'resource "aws_autoscaling_group" "b" {\n'
        "  // approved-amis:ignore[floating-version] replaced every release\n"
        "  launch_template {\n"
        "    version = \"$Latest\"\n"
        "  }\n"
        "}\n\n"
        'resource "aws_instance" "c" {\n'
        '  ami = "ami-aaaaaaaaaaaaaaaaa" # approved-amis:ignore\n'
        "}\n\n"
        'resource "aws_instance" "d" {\n'
        '  ami = "ami-aaaaaaaaaaaaaaaaa"\n'
        "}\n"
    )
    locator = Locator(Configuration({}), tmp_path, {"aws_instance": ("ami",)})

    def waivers(resource_type: str, name: str) -> list[tuple[int, str | None, str]]:
        location = locator.locate({"mode": "managed", "type": resource_type, "name": name}, ())
        assert location is not None
        return [(w.line, w.kind, w.reason) for w in location.waivers]

    assert waivers("aws_instance", "a") == [(1, None, "golden image pending its tag")]
    assert waivers("aws_autoscaling_group", "b") == [(7, "floating-version", "replaced every release")]
    assert waivers("aws_instance", "c") == [(14, None, "")]  # refused by the command: no reason
    assert waivers("aws_instance", "d") == []


def test_a_parameter_outside_the_approved_paths_is_a_finding_amazons_are_not() -> None:
    from approved_amis.check_plan.launches import PlannedLaunch
    from approved_amis.check_plan.verdicts import _parameter_finding
    from approved_amis.rule import ApprovalRule

    rule = ApprovalRule("Environment", ("Prod",), ami_parameter_paths=("/golden-ami/*",))

    def finding(parameter: str, paths_rule: ApprovalRule = rule) -> Any:
        launch = PlannedLaunch("aws_launch_template.t", "aws_launch_template", None, "from SSM", parameter=parameter)
        return _parameter_finding(launch, paths_rule)

    outside = finding("/team/ami")
    assert outside is not None and outside.kind == "ami-parameter" and outside.verdict.value == "unapproved"
    assert finding("/golden-ami/al2023") is None
    assert finding("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64") is None
    assert finding("/team/ami", ApprovalRule("Environment", ("Prod",))) is None  # no approved paths: no finding
