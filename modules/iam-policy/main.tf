data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

################################################################################
# Approval rule
################################################################################

module "approval_rule" {
  source = "../approval-rule"

  approval_tag_key    = var.approval_tag_key
  approval_tag_values = var.approval_tag_values
  approved_ami_ids    = var.approved_ami_ids
  approved_ami_owners = var.approved_ami_owners
  ami_publisher_arns  = var.ami_publisher_arns
  partition           = try(data.aws_partition.current[0].partition, "aws")

  exempt_principal_arns                  = var.exempt_principal_arns
  deny_unpinned_launch_template_versions = var.deny_unpinned_launch_template_versions
  launch_configurations                  = var.launch_configurations
  restrict_image_builder_to_publishers   = var.restrict_image_builder_to_publishers
  protect_principal_roles                = var.protect_principal_roles
}

locals {
  # IAM's limit for a managed policy, in characters not counting whitespace.
  managed_policy_max_characters = 6144
}

################################################################################
# Policy
################################################################################

resource "aws_iam_policy" "this" {
  count = var.create && var.create_policy ? 1 : 0

  name        = var.name
  path        = var.path
  description = var.description
  policy      = module.approval_rule.policy_json

  tags = var.tags
}

resource "aws_iam_policy" "boundary" {
  #checkov:skip=CKV_AWS_62:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_63:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_286:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_287:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_288:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_289:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_290:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV_AWS_355:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  #checkov:skip=CKV2_AWS_40:A permissions boundary grants nothing, it caps what identity policies grant: Allow * is the cap, the Deny statements take unapproved launches, approval tag changes, image publishing and publisher role changes out of it.
  count = var.create && var.create_boundary_policy ? 1 : 0

  name        = "${var.name}-boundary"
  path        = var.path
  description = "Permissions boundary: everything except unapproved launches, approval tag changes, image publishing by others and changes to publisher roles."
  policy      = module.approval_rule.boundary_policy_json

  tags = var.tags
}

################################################################################
# Attachments
################################################################################

resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(var.create && var.create_policy ? var.attach_to_role_names : [])

  role       = each.value
  policy_arn = aws_iam_policy.this[0].arn
}

resource "aws_iam_group_policy_attachment" "this" {
  for_each = toset(var.create && var.create_policy ? var.attach_to_group_names : [])

  group      = each.value
  policy_arn = aws_iam_policy.this[0].arn
}

resource "aws_iam_user_policy_attachment" "this" {
  #checkov:skip=CKV_AWS_40:Opt-in (attach_to_user_names is empty by default) for accounts that still have IAM users: the policy narrows what they may launch, and leaving them out would leave them unguarded.
  for_each = toset(var.create && var.create_policy ? var.attach_to_user_names : [])

  user       = each.value
  policy_arn = aws_iam_policy.this[0].arn
}
