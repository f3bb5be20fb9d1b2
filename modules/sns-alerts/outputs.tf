################################################################################
# Topic
################################################################################

output "topic_arn" {
  description = "ARN of the topic the alerts go to (created or given); null when create = false."
  value       = var.create ? local.topic_arn : null
}

output "kms_key_arn" {
  description = "ARN of the topic's KMS key; null when the module does not create the topic."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "subscription_arns" {
  description = "ARNs of the subscriptions, by \"<protocol>:<endpoint>\"."
  value       = { for key, s in aws_sns_topic_subscription.this : key => s.arn }
}

################################################################################
# EventBridge rule
################################################################################

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that publishes the alerts; null when create = false."
  value       = try(aws_cloudwatch_event_rule.this[0].arn, null)
}

output "event_rule_name" {
  description = "Name of the EventBridge rule; null when create = false."
  value       = try(aws_cloudwatch_event_rule.this[0].name, null)
}

################################################################################
# Dead-letter queue and alarm
################################################################################

output "dead_letter_queue_arn" {
  description = "ARN of the SQS queue that keeps the alerts EventBridge could not deliver; null when create = false."
  value       = try(aws_sqs_queue.dead_letter[0].arn, null)
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue; null when create = false."
  value       = try(aws_sqs_queue.dead_letter[0].id, null)
}

output "failed_invocations_alarm_arn" {
  description = "ARN of the CloudWatch alarm on the rule's FailedInvocations; null when create = false."
  value       = try(aws_cloudwatch_metric_alarm.failed_invocations[0].arn, null)
}
