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
  policy      = var.approval_rule.policy_json

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
  policy      = var.approval_rule.boundary_policy_json

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
