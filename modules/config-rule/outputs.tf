################################################################################
# Config rules
################################################################################

output "rule_names" {
  description = "Names of the Config rules: the tag rule, then the ID rule when AMI IDs are approved. Empty when create = false."
  value       = [for key in ["by_tag", "by_id"] : aws_config_config_rule.this[key].name if contains(keys(aws_config_config_rule.this), key)]
}

output "rule_arns" {
  description = "ARNs of the Config rules, in the order of rule_names."
  value       = [for key in ["by_tag", "by_id"] : aws_config_config_rule.this[key].arn if contains(keys(aws_config_config_rule.this), key)]
}

output "input_parameters" {
  description = "input_parameters JSON of each rule, by rule identifier (APPROVED_AMIS_BY_TAG, APPROVED_AMIS_BY_ID)."
  value       = { for key, rule in local.rules : rule.identifier => rule.parameters }
}

################################################################################
# Configuration recorder
################################################################################

output "recorder_name" {
  description = "Name of the configuration recorder; null when it is not created."
  value       = try(aws_config_configuration_recorder.this[0].name, null)
}

output "recorder_role_arn" {
  description = "ARN of the recorder's IAM role; null when the recorder is not created."
  value       = try(aws_iam_role.recorder[0].arn, null)
}

output "delivery_s3_bucket_name" {
  description = "Bucket the delivery channel writes to; null when the recorder is not created."
  value       = try(aws_config_delivery_channel.this[0].s3_bucket_name, null)
}
