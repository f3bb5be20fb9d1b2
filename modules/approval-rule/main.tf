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

  # Auto Scaling calls that name a group's launch template (and its version).
  group_actions = ["autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"]

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
  # Data Lifecycle Manager AMI policies tag the AMIs they create (TagsToAdd, CopyTags) through the execution
  # role passed to dlm.amazonaws.com: publishers only, unless restrict_data_lifecycle_manager_to_publishers is false.
  data_lifecycle_manager_actions = ["dlm:CreateLifecyclePolicy", "dlm:UpdateLifecyclePolicy"]
  # Restoring a deregistered AMI from the Recycle Bin, or enabling a disabled one, brings it back with its
  # tags, the approval tag included: publishers only.
  image_publishing_actions = concat(
    var.restrict_image_builder_to_publishers ? local.image_builder_publishing_actions : [],
    var.restrict_data_lifecycle_manager_to_publishers ? local.data_lifecycle_manager_actions : [],
    ["ec2:RestoreImageFromRecycleBin", "ec2:EnableImage"],
  )

  # In an account approved by owner (ec2:Owner), every image it makes or shares is approved in every account
  # that approves the owner: only publishers may make or share one there.
  image_creation_actions = ["ec2:CreateImage", "ec2:RegisterImage", "ec2:CopyImage", "ec2:ImportImage", "ec2:CreateRestoreImageTask", "ec2:ModifyImageAttribute"]
  owner_accounts         = [for owner in var.approved_ami_owners : owner if can(regex("^[0-9]{12}$", owner))]

  # The SSM parameters launch templates may name as their image (resolve:ssm:): only publishers may point
  # them at another AMI. A parameter name /a/b has the ARN ...:parameter/a/b.
  parameter_actions  = ["ssm:PutParameter", "ssm:LabelParameterVersion"]
  ami_parameter_arns = [for path in var.ami_parameter_paths : "arn:${var.partition}:ssm:*:*:parameter${path}"]

  # aws:PrincipalArn holds a role's ARN (with its path) for every session of the role, and a user's ARN for
  # the user, so a publisher or exempt pattern is matched by whoever can create that role or user, give it
  # a trust policy, or attach policies to it. The same patterns, used as Resource, name exactly the roles
  # and users they would match: changes to them are denied (variables.tf refuses sts:: session ARNs,
  # which aws:PrincipalArn never holds). The IAM administrators are protected the same way, so that nobody
  # the policies bind can become one and then change the others.
  protected_principal_arns = distinct(concat(var.ami_publisher_arns, var.exempt_principal_arns, var.iam_admin_principal_arns))
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
    partition                = var.partition
    tag_key                  = var.approval_tag_key
    tag_values               = var.approval_tag_values
    ami_ids                  = var.approved_ami_ids
    ami_owners               = var.approved_ami_owners
    unless_exempt            = local.unless_principal["exempt"]
    unless_publisher         = local.unless_principal["publisher"]
    unless_iam_admin         = local.unless_principal["iam_admin"]
    launch_actions           = local.launch_actions
    unchecked_launch_actions = local.unchecked_launch_actions
    group_actions            = local.group_actions
    image_publishing_actions = local.image_publishing_actions
    image_creation_actions   = local.image_creation_actions
    owner_accounts           = local.owner_accounts
    parameter_actions        = local.parameter_actions
    ami_parameter_arns       = local.ami_parameter_arns
    protected_principal_arns = local.protected_principal_arns
    principal_guard_actions  = local.principal_guard_actions

    # The toggles, as the inputs give them: the template decides what each one renders.
    deny_unpinned_launch_template_versions = var.deny_unpinned_launch_template_versions
    launch_configurations                  = var.launch_configurations
    protect_principal_roles                = var.protect_principal_roles
  }

  # The identity policy and the boundary hold every statement; the Deny statements are split over two SCPs
  # (launch: how instances start; approval: how an image becomes approved), since one SCP cannot hold them
  # all within the 5,120 characters Organizations allows.
  scp_parts = ["launch", "approval"]
  documents = {
    for name, render in {
      policy       = { mode = "policy", part = "" }
      boundary     = { mode = "boundary", part = "" }
      scp_launch   = { mode = "scp", part = "launch" }
      scp_approval = { mode = "scp", part = "approval" }
    } : name => trimspace(templatefile(local.policy_template, merge(local.template_vars, render)))
  }
  scp_documents = { for part in local.scp_parts : part => local.documents["scp_${part}"] }

  # IAM counts a managed policy's characters without whitespace (6,144 at most); Organizations counts an
  # SCP's with it (5,120). jsonencode writes no whitespace outside strings.
  characters = {
    policy   = length(replace(local.documents["policy"], "/\\s/", ""))
    boundary = length(replace(local.documents["boundary"], "/\\s/", ""))
    scp      = { for part, document in local.scp_documents : part => length(document) }
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
