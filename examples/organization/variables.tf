variable "region" {
  description = "AWS region to deploy to (the organization Config rules and the aggregator live here)."
  type        = string
  default     = "eu-west-1"
}

variable "target_ids" {
  description = "Root, OU or account IDs to attach the SCP and the Allowed AMIs policy to: your workload OUs."
  type        = list(string)
  default     = ["ou-a1b2-c3d4e5f6", "ou-a1b2-f6e5d4c3"]
}

variable "ami_publisher_account_id" {
  description = "Account that builds and shares the golden AMIs; its images are allowed by the Allowed AMIs policy."
  type        = string
  default     = "111122223333"
}

variable "create_config_rule" {
  description = "Create the organization Config rules (needs AWS Config trusted access; not served by the local emulator)."
  type        = bool
  default     = true
}

variable "config_rule_excluded_account_ids" {
  description = "Accounts the organization Config rules skip, for example the sandbox and log-archive accounts."
  type        = list(string)
  default     = ["444455556666", "777788889999"]
}

variable "create_allowed_amis_policy" {
  description = "Create the EC2 Allowed AMIs declarative policy (needs DECLARATIVE_POLICY_EC2 enabled on the root; not served by the local emulator)."
  type        = bool
  default     = true
}

variable "allowed_amis_state" {
  description = "\"audit_mode\" to report images that would be blocked, \"enabled\" to block them."
  type        = string
  default     = "audit_mode"
}

variable "create_aggregator" {
  description = "Create the organization Config aggregator and its IAM role."
  type        = bool
  default     = true
}

variable "aggregator_role_arn" {
  description = "Existing IAM role for the aggregator (with AWSConfigRoleForOrganizations); null creates one."
  type        = string
  default     = null
}
