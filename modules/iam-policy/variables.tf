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
    condition     = !(var.create && var.create_policy) || module.approval_rule.characters.policy <= local.managed_policy_max_characters
    error_message = "The identity policy would be ${module.approval_rule.characters.policy} characters (whitespace not counted), over the 6,144 IAM allows for a managed policy. Shorten it: approve AMIs by tag or owner instead of long approved_ami_ids lists, use fewer approval_tag_values, and replace lists of ami_publisher_arns or exempt_principal_arns with wildcard patterns (for example \"arn:aws:iam::*:role/ami-publisher\")."
  }
}

variable "create_boundary_policy" {
  description = "Also create a managed policy meant as a permissions boundary: allows everything except what the Deny statements take out."
  type        = bool
  default     = false

  validation {
    condition     = !(var.create && var.create_boundary_policy) || module.approval_rule.characters.boundary <= local.managed_policy_max_characters
    error_message = "The permissions boundary would be ${module.approval_rule.characters.boundary} characters (whitespace not counted), over the 6,144 IAM allows for a managed policy. Shorten it: approve AMIs by tag or owner instead of long approved_ami_ids lists, and replace lists of ami_publisher_arns or exempt_principal_arns with wildcard patterns."
  }
}

################################################################################
# Approval rule
################################################################################

variable "approval_tag_key" {
  description = "Tag key that marks an AMI as approved."
  type        = string
  default     = "Environment"
}

variable "approval_tag_values" {
  description = "Values of approval_tag_key that mark an AMI as approved (case-sensitive)."
  type        = list(string)
  default     = ["Prod"]
}

variable "approved_ami_ids" {
  description = "AMI IDs approved whatever their tags."
  type        = list(string)
  default     = []
}

variable "approved_ami_owners" {
  description = "AMI owners (account IDs, amazon, aws-marketplace) approved whatever the tags."
  type        = list(string)
  default     = []
}

variable "ami_publisher_arns" {
  description = "IAM role or user ARN patterns that may add, change or remove the approval tag on AMIs and drive EC2 Image Builder."
  type        = list(string)
  default     = []
}

variable "exempt_principal_arns" {
  description = "IAM role or user ARN patterns exempt from the launch denials (break-glass roles); their roles are protected like the publishers'."
  type        = list(string)
  default     = []
}

################################################################################
# Doors beyond RunInstances
################################################################################

variable "deny_unpinned_launch_template_versions" {
  description = "Deny Auto Scaling groups that follow $Latest or $Default of a launch template."
  type        = bool
  default     = true
}

variable "launch_configurations" {
  description = "Which launch configurations may be created: \"approved_ami_ids\", \"none\" or \"any\"."
  type        = string
  default     = "approved_ami_ids"
}

variable "restrict_image_builder_to_publishers" {
  description = "Allow only ami_publisher_arns to build, import and distribute AMIs with EC2 Image Builder."
  type        = bool
  default     = true
}

variable "protect_principal_roles" {
  description = "Deny creating, re-trusting, passing and changing the policies of the publisher and exempt roles and users."
  type        = bool
  default     = true
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
