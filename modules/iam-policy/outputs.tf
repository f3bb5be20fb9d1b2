################################################################################
# Approval rule
################################################################################

output "approval_rule" {
  description = "The approval rule the policy enforces (tag key and values, AMI IDs, owners); null when create = false."
  value       = var.create ? var.approval_rule.rule : null
}

################################################################################
# Policy
################################################################################

output "policy_json" {
  description = "The identity policy document (JSON); null when create = false."
  value       = var.create ? var.approval_rule.policy_json : null
}

output "boundary_policy_json" {
  description = "The permissions boundary document (JSON); null when create = false."
  value       = var.create ? var.approval_rule.boundary_policy_json : null
}

output "scp_policy_jsons" {
  description = "The deny-only documents, ready for two service control policies (JSON by part: launch, approval); null when create = false."
  value       = var.create ? var.approval_rule.scp_policy_jsons : null
}

output "policy_characters" {
  description = "Size of the identity policy in characters, whitespace not counted (IAM allows 6,144); null when create = false."
  value       = var.create ? var.approval_rule.characters.policy : null
}

output "boundary_policy_characters" {
  description = "Size of the permissions boundary in characters, whitespace not counted (IAM allows 6,144); null when create = false."
  value       = var.create ? var.approval_rule.characters.boundary : null
}

output "policy_arn" {
  description = "ARN of the managed policy; null when it is not created."
  value       = try(aws_iam_policy.this[0].arn, null)
}

output "policy_name" {
  description = "Name of the managed policy; null when it is not created."
  value       = try(aws_iam_policy.this[0].name, null)
}

output "boundary_policy_arn" {
  description = "ARN of the permissions boundary policy; null when it is not created."
  value       = try(aws_iam_policy.boundary[0].arn, null)
}
