output "config_rule_names" {
  description = "The AWS Config rules that detect instances running unapproved AMIs."
  value       = module.approved_amis.config_rule_names
}

output "sns_topic_arn" {
  description = "The topic that receives an alert for every NON_COMPLIANT instance."
  value       = module.approved_amis.sns_topic_arn
}
