################################################################################
# Role
################################################################################

output "role_arn" {
  description = "ARN of the audit role; null when create = false."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the audit role, the value of --role-name; null when create = false."
  value       = try(aws_iam_role.this[0].name, null)
}

output "audit_actions" {
  description = "The actions the role's policy allows, on every resource."
  value       = var.create ? local.audit_actions : null
}
