################################################################################
# Approval rule
################################################################################

output "rule" {
  description = "The approval rule: tag key and values, AMI IDs and owners approved regardless of tags."
  value = {
    tag_key    = var.approval_tag_key
    tag_values = var.approval_tag_values
    ami_ids    = var.approved_ami_ids
    ami_owners = var.approved_ami_owners
  }
}

output "config_rule_parameters" {
  description = "input_parameters JSON for APPROVED_AMIS_BY_TAG (by_tag) and APPROVED_AMIS_BY_ID (by_id, null without AMI IDs)."
  value       = local.config_rule_parameters
}

################################################################################
# Policy documents
################################################################################

output "policy_json" {
  description = "Identity policy: launches allowed only from approved AMIs, approval tag guarded."
  value       = local.documents["policy"]
}

output "boundary_policy_json" {
  description = "Permissions boundary: everything allowed except launches from unapproved AMIs and approval tag changes."
  value       = local.documents["boundary"]
}

output "scp_policy_json" {
  description = "Deny-only document for a service control policy."
  value       = local.documents["scp"]
}
