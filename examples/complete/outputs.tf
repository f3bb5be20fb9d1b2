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

output "scp_policy_jsons" {
  description = "The deny-only documents for two service control policies (launch, approval)."
  value       = module.approved_amis.scp_policy_jsons
}

output "config_rule_names" {
  description = "The AWS Config rules that detect instances running unapproved AMIs."
  value       = module.approved_amis.config_rule_names
}

output "sns_topic_arn" {
  description = "The topic that receives an alert for every NON_COMPLIANT instance."
  value       = module.approved_amis.sns_topic_arn
}

output "event_rule_arn" {
  description = "The EventBridge rule that publishes the alerts."
  value       = module.approved_amis.event_rule_arn
}

output "ssm_remediation_role_arn" {
  description = "The role SSM Automation assumes to stop non-compliant instances."
  value       = module.approved_amis.ssm_remediation_role_arn
}
