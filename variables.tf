################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create anything at all. False plans zero resources, whatever the other toggles say."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name given to the resources this module creates (policies, rules, topic, roles), used as a prefix where several exist."
  type        = string
  default     = "approved-amis"
}

variable "tags" {
  description = "Tags added to every resource that supports them."
  type        = map(string)
  default     = {}
}

################################################################################
# Approval rule (shared by every layer)
################################################################################

variable "approval_tag_key" {
  description = "Tag key that marks an AMI as approved. Only ami_publisher_arns may add, change or remove it on images."
  type        = string
  default     = "Environment"
}

variable "approval_tag_values" {
  description = "Values of approval_tag_key that mark an AMI as approved (case-sensitive, at most 10)."
  type        = list(string)
  default     = ["Prod"]
}

variable "approved_ami_ids" {
  description = "AMI IDs approved whatever their tags, for AMIs shared from other accounts whose tags this account cannot see (at most 21)."
  type        = list(string)
  default     = []
}

variable "approved_ami_owners" {
  description = "AMI owners approved whatever the tags: 12-digit account IDs, \"amazon\" or \"aws-marketplace\". Enforced by the IAM layer; AWS Config has no owner rule."
  type        = list(string)
  default     = []
}

variable "ami_publisher_arns" {
  description = "IAM principal ARN patterns (wildcards allowed) that may add, change or remove the approval tag on AMIs. Empty: nobody the policy applies to may."
  type        = list(string)
  default     = []
}

################################################################################
# Prevent: IAM policy
################################################################################

variable "create_iam_policy" {
  description = "Create the managed IAM policy that allows launches only from approved AMIs."
  type        = bool
  default     = true
}

variable "create_iam_boundary_policy" {
  description = "Also create a managed policy to use as a permissions boundary (everything allowed except unapproved launches and approval tag changes)."
  type        = bool
  default     = false
}

variable "iam_policy_path" {
  description = "IAM path of the managed policies."
  type        = string
  default     = "/"
}

variable "iam_attach_to_role_names" {
  description = "Names of IAM roles to attach the policy to."
  type        = list(string)
  default     = []
}

variable "iam_attach_to_group_names" {
  description = "Names of IAM groups to attach the policy to."
  type        = list(string)
  default     = []
}

variable "iam_attach_to_user_names" {
  description = "Names of IAM users to attach the policy to."
  type        = list(string)
  default     = []
}
