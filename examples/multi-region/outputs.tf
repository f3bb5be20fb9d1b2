output "policy_arn" {
  description = "The one IAM policy, global, attached to the deployer role."
  value       = module.primary.policy_arn
}

output "config_rule_names" {
  description = "The Config rules of each region, by region: the same names in every region."
  value = {
    (var.primary_region)   = module.primary.config_rule_names
    (var.secondary_region) = module.secondary.config_rule_names
  }
}

output "sns_topic_arn" {
  description = "The one topic that receives the alerts of every region."
  value       = module.primary.sns_topic_arn
}

output "forward_rule_arn" {
  description = "The secondary region's rule that forwards its NON_COMPLIANT verdicts to the primary region."
  value       = aws_cloudwatch_event_rule.forward.arn
}
