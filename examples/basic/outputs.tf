output "policy_arn" {
  description = "ARN of the approved-AMI policy attached to the deployer role."
  value       = module.approved_amis.policy_arn
}

output "policy_json" {
  description = "The approved-AMI policy document."
  value       = module.approved_amis.policy_json
}

output "approval_rule" {
  description = "The approval rule, for the approved-amis CLI."
  value       = module.approved_amis.approval_rule
}
