################################################################################
# Approval rule
################################################################################

output "approval_rule" {
  description = "The approval rule every layer enforces: tag key and values, AMI IDs and owners. The approved-amis CLI reads it (--from-terraform)."
  value = var.create ? {
    tag_key    = var.approval_tag_key
    tag_values = var.approval_tag_values
    ami_ids    = var.approved_ami_ids
    ami_owners = var.approved_ami_owners
  } : null
}

################################################################################
# Prevent: IAM policy
################################################################################

output "policy_json" {
  description = "The identity policy document (JSON); null when the IAM layer is off."
  value       = module.iam_policy.policy_json
}

output "scp_policy_json" {
  description = "The deny-only document, ready for a service control policy (JSON); null when the IAM layer is off."
  value       = module.iam_policy.scp_policy_json
}

output "boundary_policy_json" {
  description = "The permissions boundary document (JSON); null when the IAM layer is off."
  value       = module.iam_policy.boundary_policy_json
}

output "policy_arn" {
  description = "ARN of the managed IAM policy; null when it is not created."
  value       = module.iam_policy.policy_arn
}

output "boundary_policy_arn" {
  description = "ARN of the permissions boundary policy; null when it is not created."
  value       = module.iam_policy.boundary_policy_arn
}
