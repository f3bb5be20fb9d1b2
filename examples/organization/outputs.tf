output "approval_rule" {
  description = "The approval rule every layer enforces, for the approved-amis CLI."
  value       = module.approved_amis_organization.approval_rule
}

output "scp_ids" {
  description = "IDs of the approved-AMI service control policies, by part (launch, approval)."
  value       = module.approved_amis_organization.scp_ids
}

output "scp_policy_jsons" {
  description = "Content of the service control policies, by part."
  value       = module.approved_amis_organization.scp_policy_jsons
}

output "scp_characters" {
  description = "Size of each SCP in characters, of the 5,120 allowed."
  value       = module.approved_amis_organization.scp_characters
}

output "scp_target_ids" {
  description = "Targets the SCPs are attached to."
  value       = module.approved_amis_organization.scp_target_ids
}

output "allowed_amis_policy_id" {
  description = "ID of the EC2 Allowed AMIs declarative policy."
  value       = module.approved_amis_organization.allowed_amis_policy_id
}

output "allowed_amis_policy_json" {
  description = "Content of the EC2 Allowed AMIs declarative policy."
  value       = module.approved_amis_organization.allowed_amis_policy_json
}

output "config_rule_arns" {
  description = "ARNs of the organization Config rules."
  value       = module.approved_amis_organization.config_rule_arns
}

output "aggregator_arn" {
  description = "ARN of the organization Config aggregator."
  value       = module.approved_amis_organization.aggregator_arn
}

output "aggregator_role_arn" {
  description = "ARN of the aggregator's IAM role."
  value       = module.approved_amis_organization.aggregator_role_arn
}
