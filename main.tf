################################################################################
# Prevent: IAM policy
################################################################################

module "iam_policy" {
  source = "./modules/iam-policy"

  create                 = var.create
  create_policy          = var.create_iam_policy
  create_boundary_policy = var.create_iam_boundary_policy

  name = var.name
  path = var.iam_policy_path
  tags = var.tags

  approval_tag_key    = var.approval_tag_key
  approval_tag_values = var.approval_tag_values
  approved_ami_ids    = var.approved_ami_ids
  approved_ami_owners = var.approved_ami_owners
  ami_publisher_arns  = var.ami_publisher_arns

  attach_to_role_names  = var.iam_attach_to_role_names
  attach_to_group_names = var.iam_attach_to_group_names
  attach_to_user_names  = var.iam_attach_to_user_names
}
