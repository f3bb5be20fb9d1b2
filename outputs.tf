################################################################################
# Approval rule
################################################################################

output "approval_rule" {
  description = "The approval rule every layer enforces: tag key and values, AMI IDs and owners. The approved-amis CLI reads it (--from-terraform)."
  value       = var.create ? module.approval_rule.rule : null
}

################################################################################
# Prevent: IAM policy
################################################################################

output "policy_json" {
  description = "The identity policy document (JSON); null when the IAM layer is off."
  value       = module.iam_policy.policy_json
}

output "scp_policy_jsons" {
  description = "The deny-only documents, ready for two service control policies (JSON by part: launch, approval); null when the IAM layer is off."
  value       = module.iam_policy.scp_policy_jsons
}

output "boundary_policy_json" {
  description = "The permissions boundary document (JSON); null when the IAM layer is off."
  value       = module.iam_policy.boundary_policy_json
}

output "policy_characters" {
  description = "Size of the identity policy in characters, whitespace not counted (IAM allows 6,144); null when the IAM layer is off."
  value       = module.iam_policy.policy_characters
}

output "boundary_policy_characters" {
  description = "Size of the permissions boundary in characters, whitespace not counted (IAM allows 6,144); null when the IAM layer is off."
  value       = module.iam_policy.boundary_policy_characters
}

output "policy_arn" {
  description = "ARN of the managed IAM policy; null when it is not created."
  value       = module.iam_policy.policy_arn
}

output "boundary_policy_arn" {
  description = "ARN of the permissions boundary policy; null when it is not created."
  value       = module.iam_policy.boundary_policy_arn
}

################################################################################
# Detect: AWS Config rules
################################################################################

output "config_rule_names" {
  description = "Names of the AWS Config rules (tag rule, then ID rule); empty when the Config layer is off."
  value       = module.config_rule.rule_names
}

output "config_rule_arns" {
  description = "ARNs of the AWS Config rules, in the order of config_rule_names."
  value       = module.config_rule.rule_arns
}

output "config_recorder_name" {
  description = "Name of the configuration recorder; null when the module does not create it."
  value       = module.config_rule.recorder_name
}

output "config_delivery_s3_bucket_name" {
  description = "Bucket the delivery channel writes to; null when the module does not create the recorder."
  value       = module.config_rule.delivery_s3_bucket_name
}

################################################################################
# Alert: EventBridge to SNS
################################################################################

output "sns_topic_arn" {
  description = "ARN of the topic that receives the alerts; null when alerts are off."
  value       = module.sns_alerts.topic_arn
}

output "sns_kms_key_arn" {
  description = "ARN of the alert topic's KMS key; null when the module does not create the topic."
  value       = module.sns_alerts.kms_key_arn
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that publishes the alerts; null when alerts are off."
  value       = module.sns_alerts.event_rule_arn
}

output "sns_dead_letter_queue_arn" {
  description = "ARN of the SQS queue that keeps the alerts EventBridge could not deliver; null when alerts are off."
  value       = module.sns_alerts.dead_letter_queue_arn
}

output "sns_failed_invocations_alarm_arn" {
  description = "ARN of the CloudWatch alarm on the alert rule's FailedInvocations; null when alerts are off."
  value       = module.sns_alerts.failed_invocations_alarm_arn
}

################################################################################
# Respond: SSM remediation
################################################################################

output "ssm_remediation_role_arn" {
  description = "ARN of the role SSM Automation assumes to remediate; null when remediation is off."
  value       = module.ssm_remediation.role_arn
}

output "ssm_remediation_document_name" {
  description = "SSM Automation document the remediation runs; null when remediation is off."
  value       = module.ssm_remediation.document_name
}
