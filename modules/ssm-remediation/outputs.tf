################################################################################
# Automation role
################################################################################

output "role_arn" {
  description = "ARN of the role SSM Automation assumes to remediate; null when create = false."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the automation role; null when create = false."
  value       = try(aws_iam_role.this[0].name, null)
}

################################################################################
# Remediation configuration
################################################################################

output "document_name" {
  description = "SSM Automation document the remediation runs; null when create = false."
  value       = var.create ? local.document.name : null
}

output "remediation_configuration_arns" {
  description = "ARNs of the remediation configurations, by Config rule name."
  value       = { for name, r in aws_config_remediation_configuration.this : name => r.arn }
}
