################################################################################
# Approval rule
#
# One definition of "approved AMI", validated once and rendered for every layer:
# the IAM policy, the permissions boundary, the SCP and the AWS Config rule parameters.
################################################################################

locals {
  policy_template = "${path.module}/templates/approved-amis.json.tftpl"

  # Every EC2 action that authorizes an `image` resource to launch or replace compute, from the Service
  # Authorization Reference (tests/test_sar_coverage.py checks this list against the SAR data shipped in
  # parliament, and lists there why every other action on an image is not a launch).
  launch_actions = [
    "ec2:RunInstances",
    "ec2:CreateFleet",
    "ec2:ModifyFleet",
    "ec2:RequestSpotInstances",
    "ec2:RequestSpotFleet",
    "ec2:CreateReplaceRootVolumeTask",
    "ec2:EnableFastLaunch",
  ]

  # Launches whose authorization names no image at all: no condition can check the AMI, so they are denied.
  unchecked_launch_actions = ["ec2:RunScheduledInstances", "ec2:ImportInstance"]

  # EC2 Image Builder actions that build, import or distribute AMIs (its service-linked role tags what it
  # distributes): publishers only, unless restrict_image_builder_to_publishers is false.
  image_builder_publishing_actions = [
    "imagebuilder:CreateImage",
    "imagebuilder:CreateImagePipeline",
    "imagebuilder:UpdateImagePipeline",
    "imagebuilder:StartImagePipelineExecution",
    "imagebuilder:CreateDistributionConfiguration",
    "imagebuilder:UpdateDistributionConfiguration",
    "imagebuilder:ImportVmImage",
    "imagebuilder:ImportDiskImage",
  ]
  # Restoring a deregistered AMI brings its tags back, the approval tag included: publishers only.
  image_publishing_actions = ["ec2:RestoreImageFromRecycleBin"]

  # aws:PrincipalArn holds a role's ARN (with its path) for every session of the role, and a user's ARN for
  # the user, so a publisher or exempt pattern is matched by whoever can create that role or user, give it
  # a trust policy, or attach policies to it. The same patterns, used as Resource, name exactly the roles
  # and users they would match: changes to them are denied (variables.tf refuses sts:: session ARNs,
  # which aws:PrincipalArn never holds).
  protected_principal_arns = distinct(concat(var.ami_publisher_arns, var.exempt_principal_arns))
  role_guard_actions = [
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PassRole",
  ]
  user_guard_actions = [
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
  ]
  principal_guard_actions = concat(
    anytrue([for arn in local.protected_principal_arns : can(regex(":role/", arn))]) ? local.role_guard_actions : [],
    anytrue([for arn in local.protected_principal_arns : can(regex(":user/", arn))]) ? local.user_guard_actions : [],
  )

  # Who each Deny statement leaves out, as a Condition block to merge into the statement's own (empty when
  # nobody is left out): break-glass roles from the launch denials, publishers from the publishing and tag
  # denials, and, in the SCP only, IAM administrators from the guard of the publisher and exempt roles.
  unless_principal = {
    for name, arns in {
      exempt    = var.exempt_principal_arns
      publisher = var.ami_publisher_arns
      iam_admin = var.iam_admin_principal_arns
    } : name => length(arns) == 0 ? {} : { ArnNotLike = { "aws:PrincipalArn" = arns } }
  }

  template_vars = {
    partition                    = var.partition
    tag_key                      = var.approval_tag_key
    tag_values                   = var.approval_tag_values
    ami_ids                      = var.approved_ami_ids
    ami_owners                   = var.approved_ami_owners
    unless_exempt                = local.unless_principal["exempt"]
    unless_publisher             = local.unless_principal["publisher"]
    unless_iam_admin             = local.unless_principal["iam_admin"]
    launch_resource_types        = ["instance", "volume", "network-interface", "subnet", "security-group", "key-pair", "launch-template"]
    tag_on_launch_resource_types = ["instance", "volume", "network-interface"]
    launch_actions               = local.launch_actions
    unchecked_launch_actions     = local.unchecked_launch_actions
    image_builder_actions        = local.image_builder_publishing_actions
    image_publishing_actions     = local.image_publishing_actions
    protected_principal_arns     = local.protected_principal_arns
    principal_guard_actions      = local.principal_guard_actions

    # The toggles, as the inputs give them: the template decides what each one renders.
    deny_unpinned_launch_template_versions = var.deny_unpinned_launch_template_versions
    launch_configurations                  = var.launch_configurations
    restrict_image_builder_to_publishers   = var.restrict_image_builder_to_publishers
    protect_principal_roles                = var.protect_principal_roles
  }

  documents = {
    for mode in ["policy", "boundary", "scp"] :
    mode => trimspace(templatefile(local.policy_template, merge(local.template_vars, { mode = mode })))
  }

  # IAM counts a managed policy's characters without whitespace (6,144 at most); Organizations counts an
  # SCP's with it (5,120). jsonencode writes no whitespace outside strings.
  characters = {
    policy   = length(replace(local.documents["policy"], "/\\s/", ""))
    boundary = length(replace(local.documents["boundary"], "/\\s/", ""))
    scp      = length(local.documents["scp"])
  }

  config_rule_parameters = {
    by_tag = jsonencode({
      amisByTagKeyAndValue = join(",", [for value in var.approval_tag_values : "${var.approval_tag_key}:${value}"])
    })
    by_id = length(var.approved_ami_ids) == 0 ? null : jsonencode({
      amiIds = join(",", var.approved_ami_ids)
    })
  }
}
