output "approval_rule" {
  description = "Null: nothing is created."
  value       = module.approved_amis.approval_rule
}

output "policy_arn" {
  description = "Null: nothing is created."
  value       = module.approved_amis.policy_arn
}

output "config_rule_names" {
  description = "Empty: nothing is created."
  value       = module.approved_amis.config_rule_names
}

output "sns_topic_arn" {
  description = "Null: nothing is created."
  value       = module.approved_amis.sns_topic_arn
}

output "ssm_remediation_role_arn" {
  description = "Null: nothing is created."
  value       = module.approved_amis.ssm_remediation_role_arn
}
