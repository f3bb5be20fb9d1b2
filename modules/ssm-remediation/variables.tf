################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create the automation role and the remediation configurations. False creates nothing."
  type        = bool
  default     = true
}

variable "create_remediation_configuration" {
  description = "Attach the remediation to the Config rules. False creates only the automation role (for example where the Config API for remediation is not available)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix of the automation role name (<name>-ssm-remediation)."
  type        = string
  default     = "approved-amis"

  validation {
    condition     = !var.create || can(regex("^[A-Za-z0-9+=,.@_-]{1,47}$", var.name))
    error_message = "name must be 1 to 47 characters of letters, digits and + = , . @ _ - (the role <name>-ssm-remediation may have at most 64)."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Automation role
################################################################################

variable "exemption_tag_key" {
  description = "Instances carrying this tag key (any value) are never stopped or terminated: the role may act only on instances without it."
  type        = string
  default     = "AmiGuardExempt"

  validation {
    condition     = length(var.exemption_tag_key) >= 1 && length(var.exemption_tag_key) <= 128 && !startswith(lower(var.exemption_tag_key), "aws:") && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]+$", var.exemption_tag_key))
    error_message = "exemption_tag_key must be a tag key of 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with \"aws:\", for example \"AmiGuardExempt\"."
  }
}

variable "role_path" {
  description = "IAM path of the automation role."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]+/)?$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with \"/\", for example \"/\" or \"/guardrails/\"."
  }
}

variable "role_permissions_boundary_arn" {
  description = "ARN of a permissions boundary for the automation role (null: none)."
  type        = string
  default     = null
}

################################################################################
# Remediation configuration
################################################################################

variable "config_rule_names" {
  description = "Names of the AWS Config rules to attach the remediation to (the config-rule module's rule_names output)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.config_rule_names) > 0 || !var.create
    error_message = "config_rule_names must name at least one AWS Config rule: pass the config-rule module's rule_names output."
  }
}

variable "action" {
  description = "What remediation does to a non-compliant instance: \"stop\" (AWS-StopEC2Instance) or \"terminate\" (AWS-TerminateEC2Instance, irreversible: ask for it explicitly)."
  type        = string
  default     = "stop"

  validation {
    condition     = contains(["stop", "terminate"], var.action)
    error_message = "action must be \"stop\" (AWS-StopEC2Instance) or \"terminate\" (AWS-TerminateEC2Instance)."
  }
}

variable "automatic" {
  description = "Remediate as soon as Config reports an instance NON_COMPLIANT. False (default): an operator starts each remediation from the Config console or API."
  type        = bool
  default     = false

  validation {
    condition     = !(var.create && var.automatic) || length(var.config_rule_names) <= 1
    error_message = "automatic remediation needs a single Config rule: with approved AMI IDs, an instance approved by ID is NON_COMPLIANT under the tag rule (and the reverse) and would be remediated. Keep automatic = false, or approve by tag only."
  }
}

variable "maximum_automatic_attempts" {
  description = "With automatic = true: attempts per non-compliant instance before Config gives up (1 to 25)."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_automatic_attempts >= 1 && var.maximum_automatic_attempts <= 25 && floor(var.maximum_automatic_attempts) == var.maximum_automatic_attempts
    error_message = "maximum_automatic_attempts must be a whole number from 1 to 25, the range AWS Config accepts."
  }
}

variable "retry_attempt_seconds" {
  description = "With automatic = true: seconds within which maximum_automatic_attempts may run (1 to 2678000, AWS Config's limit)."
  type        = number
  default     = 60

  validation {
    condition     = var.retry_attempt_seconds >= 1 && var.retry_attempt_seconds <= 2678000 && floor(var.retry_attempt_seconds) == var.retry_attempt_seconds
    error_message = "retry_attempt_seconds must be a whole number of seconds from 1 to 2678000, the range AWS Config accepts."
  }
}
