output "approval_rule" {
  description = "The approval rule every layer enforces, for the approved-amis CLI."
  value       = module.approved_amis.approval_rule
}

output "policy_arn" {
  description = "ARN of the approved-AMI policy."
  value       = module.approved_amis.policy_arn
}

output "boundary_policy_arn" {
  description = "ARN of the permissions boundary policy."
  value       = module.approved_amis.boundary_policy_arn
}

output "policy_json" {
  description = "The approved-AMI policy document."
  value       = module.approved_amis.policy_json
}

output "scp_policy_json" {
  description = "The deny-only document for a service control policy."
  value       = module.approved_amis.scp_policy_json
}
