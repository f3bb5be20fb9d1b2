################################################################################
# Approval rule
################################################################################

output "approval_rule" {
  description = "The approval rule every layer enforces: tag key and values, AMI IDs and owners; null when create = false."
  value       = var.create ? module.approval_rule.rule : null
}

################################################################################
# Service control policy
################################################################################

output "scp_ids" {
  description = "IDs of the service control policies by part (launch, approval); empty when they are not created."
  value       = { for part, policy in aws_organizations_policy.scp : part => policy.id }
}

output "scp_arns" {
  description = "ARNs of the service control policies by part (launch, approval); empty when they are not created."
  value       = { for part, policy in aws_organizations_policy.scp : part => policy.arn }
}

output "scp_policy_jsons" {
  description = "Content of the service control policies by part (launch, approval): the IAM layer's deny statements, with the break-glass exception; null when create = false."
  value       = var.create ? module.approval_rule.scp_policy_jsons : null
}

output "scp_characters" {
  description = "Size of each SCP's content in characters, by part (AWS Organizations allows 5,120 each); null when create = false."
  value       = var.create ? local.scp_characters : null
}

output "scp_target_ids" {
  description = "Root, OU and account IDs the service control policies are attached to."
  value       = sort(distinct([for attachment in aws_organizations_policy_attachment.scp : attachment.target_id]))
}

################################################################################
# Organization Config rules
################################################################################

output "config_rule_arns" {
  description = "ARNs of the organization Config rules by name."
  value       = { for rule in aws_config_organization_managed_rule.this : rule.name => rule.arn }
}

################################################################################
# EC2 Allowed AMIs (declarative policy)
################################################################################

output "allowed_amis_policy_id" {
  description = "ID of the EC2 Allowed AMIs declarative policy; null when it is not created."
  value       = try(aws_organizations_policy.allowed_amis[0].id, null)
}

output "allowed_amis_policy_json" {
  description = "Content of the EC2 Allowed AMIs declarative policy; null when it is not created."
  value       = local.create_allowed_amis_policy ? local.allowed_amis_policy_json : null
}

output "allowed_amis_policy_target_ids" {
  description = "Root, OU and account IDs the Allowed AMIs declarative policy is attached to."
  value       = sort(keys(aws_organizations_policy_attachment.allowed_amis))
}

################################################################################
# Config aggregator
################################################################################

output "aggregator_arn" {
  description = "ARN of the organization Config aggregator; null when it is not created."
  value       = try(aws_config_configuration_aggregator.this[0].arn, null)
}

output "aggregator_role_arn" {
  description = "ARN of the role the aggregator uses (created or given); null without an aggregator."
  value       = local.create_aggregator ? coalesce(var.aggregator_role_arn, try(aws_iam_role.aggregator[0].arn, null)) : null
}
