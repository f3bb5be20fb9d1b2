################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create the Config rules (and the recorder when create_recorder = true). False creates nothing."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix of the rule names (<name>-by-tag, <name>-by-id), the recorder role and the delivery bucket."
  type        = string
  default     = "approved-amis"

  validation {
    condition     = !var.create || can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 characters of letters, digits, _ and - (it prefixes the Config rule names and the recorder role name)."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Approval rule
################################################################################

variable "approval_rule" {
  description = "The rendered approval rule: the outputs of modules/approval-rule (pass the module itself, `approval_rule = module.approval_rule`). Its config_rule_parameters become the rules' input_parameters: by_tag always, by_id when AMI IDs are approved."
  type = object({
    rule = object({
      tag_key    = string
      tag_values = list(string)
      ami_ids    = list(string)
      ami_owners = list(string)
    })
    config_rule_parameters = object({
      by_tag = string
      by_id  = optional(string)
    })
  })

  validation {
    condition     = !var.create || length(var.approval_rule.config_rule_parameters.by_tag) <= 1024
    error_message = "approval_tag_key and approval_tag_values are too long for AWS Config: the APPROVED_AMIS_BY_TAG parameters (amisByTagKeyAndValue, every key:value joined) may hold at most 1024 characters. Use shorter or fewer values."
  }
}

################################################################################
# Config rules
################################################################################

variable "scope_tag_key" {
  description = "Evaluate only instances carrying this tag key (null: every EC2 instance)."
  type        = string
  default     = null

  validation {
    condition     = var.scope_tag_key == null || try(length(var.scope_tag_key) >= 1 && length(var.scope_tag_key) <= 128 && !startswith(lower(var.scope_tag_key), "aws:"), false)
    error_message = "scope_tag_key must be a tag key of 1 to 128 characters not starting with \"aws:\", or null to evaluate every instance."
  }
}

variable "scope_tag_value" {
  description = "With scope_tag_key: evaluate only instances whose tag has this value (null: any value)."
  type        = string
  default     = null

  validation {
    condition     = var.scope_tag_value == null || var.scope_tag_key != null
    error_message = "scope_tag_value needs scope_tag_key: set the tag key the value belongs to, or leave scope_tag_value null."
  }

  validation {
    condition     = var.scope_tag_value == null || try(length(var.scope_tag_value) <= 256, false)
    error_message = "scope_tag_value must be at most 256 characters, the AWS limit for a tag value."
  }
}

################################################################################
# Configuration recorder
################################################################################

variable "create_recorder" {
  description = "Create a configuration recorder (with its role, status and delivery channel) for accounts without AWS Config. Only one recorder may exist per region: leave false when the account already records."
  type        = bool
  default     = false
}

variable "recorder_name" {
  description = "Name of the configuration recorder and delivery channel."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,256}$", var.recorder_name))
    error_message = "recorder_name must be 1 to 256 characters of letters, digits and _ . -, for example \"default\"."
  }
}

variable "recorder_resource_types" {
  description = "Resource types the recorder records; must include AWS::EC2::Instance for the rules to evaluate anything."
  type        = list(string)
  default     = ["AWS::EC2::Instance"]

  validation {
    condition     = contains(var.recorder_resource_types, "AWS::EC2::Instance")
    error_message = "recorder_resource_types must include \"AWS::EC2::Instance\": the approved-AMI rules evaluate EC2 instances."
  }
}

variable "delivery_s3_bucket_name" {
  description = "Existing S3 bucket the delivery channel writes to. Null: the module creates an encrypted, versioned, private bucket named <name>-config-<account>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.delivery_s3_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.delivery_s3_bucket_name))
    error_message = "delivery_s3_bucket_name must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens."
  }
}

variable "delivery_s3_bucket_force_destroy" {
  description = "Let terraform destroy the created delivery bucket even when it holds Config snapshots."
  type        = bool
  default     = false
}
