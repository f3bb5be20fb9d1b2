################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create the module's resources. False renders nothing and creates nothing."
  type        = bool
  default     = true
}

variable "create_policy" {
  description = "Create the managed IAM policy that allows launches only from approved AMIs."
  type        = bool
  default     = true

  validation {
    condition     = !(var.create && var.create_policy) || var.approval_rule.characters.policy <= local.managed_policy_max_characters
    error_message = "The identity policy would be ${var.approval_rule.characters.policy} characters (whitespace not counted), over the 6,144 IAM allows for a managed policy. Shorten it: approve AMIs by tag or owner instead of long approved_ami_ids lists, use fewer approval_tag_values, and replace lists of ami_publisher_arns or exempt_principal_arns with wildcard patterns (for example \"arn:aws:iam::*:role/ami-publisher\")."
  }
}

variable "create_boundary_policy" {
  description = "Also create a managed policy meant as a permissions boundary: allows everything except what the Deny statements take out."
  type        = bool
  default     = false

  validation {
    condition     = !(var.create && var.create_boundary_policy) || var.approval_rule.characters.boundary <= local.managed_policy_max_characters
    error_message = "The permissions boundary would be ${var.approval_rule.characters.boundary} characters (whitespace not counted), over the 6,144 IAM allows for a managed policy. Shorten it: approve AMIs by tag or owner instead of long approved_ami_ids lists, and replace lists of ami_publisher_arns or exempt_principal_arns with wildcard patterns."
  }
}

################################################################################
# Approval rule
################################################################################

variable "approval_rule" {
  description = "The rendered approval rule: the outputs of modules/approval-rule (pass the module itself, `approval_rule = module.approval_rule`). The policy and the boundary are its policy_json and boundary_policy_json."
  type = object({
    rule = object({
      tag_key    = string
      tag_values = list(string)
      ami_ids    = list(string)
      ami_owners = list(string)
    })
    policy_json          = string
    boundary_policy_json = string
    scp_policy_jsons     = map(string)
    characters = object({
      policy   = number
      boundary = number
      scp      = map(number)
    })
  })

  validation {
    condition     = can(jsondecode(var.approval_rule.policy_json).Statement) && can(jsondecode(var.approval_rule.boundary_policy_json).Statement)
    error_message = "approval_rule must be what modules/approval-rule renders (approval_rule = module.approval_rule): its policy_json and boundary_policy_json are JSON policy documents with a Statement."
  }
}

################################################################################
# Policy
################################################################################

variable "name" {
  description = "Name of the managed policy; the boundary policy gets the suffix -boundary."
  type        = string
  default     = "approved-amis"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,119}$", var.name))
    error_message = "name must be 1 to 119 characters of letters, digits and + = , . @ _ - (an IAM policy name, leaving room for the -boundary suffix)."
  }
}

variable "path" {
  description = "IAM path of the managed policies."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]+/)?$", var.path)) && length(var.path) <= 512
    error_message = "path must start and end with \"/\", for example \"/\" or \"/guardrails/\"."
  }
}

variable "description" {
  description = "Description of the managed policy."
  type        = string
  default     = "Allows EC2 launches only from approved AMIs and guards the approval tag."
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Attachments
################################################################################

variable "attach_to_role_names" {
  description = "Names of IAM roles to attach the policy to."
  type        = list(string)
  default     = []
}

variable "attach_to_group_names" {
  description = "Names of IAM groups to attach the policy to."
  type        = list(string)
  default     = []
}

variable "attach_to_user_names" {
  description = "Names of IAM users to attach the policy to."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_policy || length(concat(var.attach_to_role_names, var.attach_to_group_names, var.attach_to_user_names)) == 0
    error_message = "Attachments need the managed policy: set create_policy = true (create_iam_policy in the root module), or leave attach_to_role_names, attach_to_group_names and attach_to_user_names empty."
  }
}
