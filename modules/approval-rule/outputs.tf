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
  description = "Identity policy: RunInstances allowed only from approved AMIs, and the Deny statements (every launch door, the approval tag, image publishing, publisher and exempt roles)."
  value       = local.documents["policy"]
}

output "boundary_policy_json" {
  description = "Permissions boundary: everything allowed except what the Deny statements take out (unapproved launches, approval tag changes, image publishing by others, changes to publisher and exempt roles)."
  value       = local.documents["boundary"]
}

output "scp_policy_jsons" {
  description = "Deny-only documents for two service control policies, by part: launch (how instances start) and approval (how an image becomes approved); one SCP cannot hold them all within 5,120 characters."
  value       = local.scp_documents
}

output "characters" {
  description = "Size of each document as AWS counts it: policy and boundary without whitespace (IAM allows 6,144 for a managed policy), scp (by part) with it (Organizations allows 5,120 each)."
  value       = local.characters
}

output "deny_statement_ids" {
  description = "Sids of the Deny statements every document renders, as the toggles decide."
  value       = tolist([for statement in jsondecode(local.documents["boundary"]).Statement : statement.Sid if statement.Effect == "Deny"])
}
