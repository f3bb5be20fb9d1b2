"""The resource types check-plan reads, one row each: where the type names AMIs and launch templates, the
attributes a finding points at, the service that launches instances from it, and its handler.

Adding a type is one row here and one resource in a fixture root (`tests/fixtures/check-plan`);
`tests/test_plan_schema_coverage.py` reads this table against the provider's schema. A type whose schema
has an AMI attribute is either here or listed, with the reason, in `not-launching.yaml` beside the fixtures.
"""

from __future__ import annotations

from approved_amis.check_plan import services
from approved_amis.check_plan.launches import LaunchType, TemplateReference

# Template references: most types write `id` and `name`; the longer keys are those of the APIs' own
# launch template specifications.
PLAIN = ("id", "name")
SPECIFICATION = ("launch_template_id", "launch_template_name")


def _template(*path: str, keys: tuple[str, str] = PLAIN) -> TemplateReference:
    return TemplateReference(path=path, id_key=keys[0], name_key=keys[1])


ROWS = (
    LaunchType(
        "aws_instance",
        launched_by="EC2 RunInstances",
        handler=services.instance_launches,
        ami_attributes=(("ami",),),
        templates=(_template("launch_template"),),
        located=("ami", "launch_template"),
    ),
    LaunchType(
        "aws_spot_instance_request",
        launched_by="EC2 RequestSpotInstances",
        handler=services.instance_launches,
        ami_attributes=(("ami",),),
        templates=(_template("launch_template"),),
        located=("ami", "launch_template"),
    ),
    LaunchType(
        "aws_launch_template",
        launched_by="whatever launches from the template",
        handler=services.template_launches,
        ami_attributes=(("image_id",),),
        located=("image_id",),
    ),
    LaunchType(
        "aws_launch_configuration",
        launched_by="EC2 Auto Scaling",
        handler=services.template_launches,
        ami_attributes=(("image_id",),),
        located=("image_id",),
    ),
    LaunchType(
        "aws_autoscaling_group",
        launched_by="EC2 Auto Scaling",
        handler=services.group_launches,
        templates=(
            _template("launch_template"),
            _template("mixed_instances_policy", "launch_template", "launch_template_specification", keys=SPECIFICATION),
            _template(
                "mixed_instances_policy", "launch_template", "override", "launch_template_specification",
                keys=SPECIFICATION,
            ),
        ),
        located=("launch_template", "mixed_instances_policy", "launch_configuration"),
        follows_later_versions=True,
    ),
    LaunchType(
        "aws_spot_fleet_request",
        launched_by="EC2 Spot Fleet (RequestSpotFleet)",
        handler=services.fleet_launches,
        ami_attributes=(("launch_specification", "ami"),),
        templates=(_template("launch_template_config", "launch_template_specification"),),
        located=("launch_specification", "launch_template_config"),
        follows_later_versions=True,  # a `maintain` fleet replaces instances from the version named then
        absent_version=None,
        fleet_type_attribute="fleet_type",
    ),
    LaunchType(
        "aws_ec2_fleet",
        launched_by="EC2 Fleet (CreateFleet)",
        handler=services.fleet_launches,
        templates=(_template("launch_template_config", "launch_template_specification", keys=SPECIFICATION),),
        located=("launch_template_config",),
        follows_later_versions=True,
        absent_version=None,
        fleet_type_attribute="type",
    ),
    LaunchType(
        "aws_batch_compute_environment",
        launched_by="AWS Batch",
        handler=services.batch_launches,
        ami_attributes=(
            ("compute_resources", "image_id"),
            ("compute_resources", "ec2_configuration", "image_id_override"),
        ),
        templates=(_template("compute_resources", "launch_template", keys=SPECIFICATION),),
        located=("compute_resources",),
    ),
    LaunchType(
        "aws_eks_node_group",
        launched_by="Amazon EKS managed node groups",
        handler=services.eks_launches,
        ami_attributes=(("ami_type",),),
        templates=(_template("launch_template"),),
        located=("launch_template", "ami_type"),
    ),
    LaunchType(
        "aws_emr_cluster",
        launched_by="Amazon EMR",
        handler=services.named_or_aws_managed(
            lambda ctx: f"EMR launches the Amazon Linux AMI of {ctx.after.get('release_label') or 'its release label'}"
        ),
        ami_attributes=(("custom_ami_id",),),
        located=("custom_ami_id",),
    ),
    LaunchType(
        "aws_cloud9_environment_ec2",
        launched_by="AWS Cloud9",
        handler=services.cloud9_launches,
        ami_attributes=(("image_id",),),
        located=("image_id",),
    ),
    LaunchType(
        "aws_codebuild_fleet",
        launched_by="AWS CodeBuild reserved capacity",
        handler=services.optional_ami,
        ami_attributes=(("image_id",),),
        located=("image_id",),
    ),
    LaunchType(
        "aws_opsworks_instance",
        launched_by="AWS OpsWorks Stacks",
        handler=services.named_or_aws_managed(
            lambda ctx: f"OpsWorks launches the AMI of os {ctx.after.get('os') or '(stack default)'}"
        ),
        ami_attributes=(("ami_id",),),
        located=("ami_id",),
    ),
    LaunchType(
        "aws_rds_custom_db_engine_version",
        launched_by="Amazon RDS Custom",
        handler=services.optional_ami,
        ami_attributes=(("source_image_id",),),
        located=("source_image_id",),
    ),
    LaunchType(
        "aws_imagebuilder_image_recipe",
        launched_by="EC2 Image Builder (build instance)",
        handler=services.image_recipe_launches,
        ami_attributes=(("parent_image",),),
        located=("parent_image",),
    ),
    LaunchType(
        "aws_imagebuilder_container_recipe",
        launched_by="EC2 Image Builder (build instance)",
        handler=services.named_or_aws_managed(
            lambda ctx: "Image Builder launches the build instance from an Amazon ECS-optimized AMI"
        ),
        ami_attributes=(("instance_configuration", "image"),),
        located=("instance_configuration",),
    ),
)

RESOURCE_TYPES: dict[str, LaunchType] = {row.resource_type: row for row in ROWS}
