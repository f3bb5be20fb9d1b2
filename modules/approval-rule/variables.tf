################################################################################
# Approval rule
################################################################################

variable "approval_tag_key" {
  description = "Tag key that marks an AMI as approved (for example Environment). Only ami_publisher_arns may add, change or remove it on images."
  type        = string
  default     = "Environment"

  validation {
    condition     = length(trimspace(var.approval_tag_key)) > 0
    error_message = "approval_tag_key must not be empty: set it to the tag key that marks approved AMIs, for example \"Environment\"."
  }

  validation {
    condition     = length(var.approval_tag_key) <= 128
    error_message = "approval_tag_key is longer than the 128 characters AWS allows for a tag key: use a shorter key."
  }

  validation {
    condition     = !startswith(lower(var.approval_tag_key), "aws:")
    error_message = "approval_tag_key must not start with \"aws:\": that prefix is reserved for AWS and cannot be set on an AMI. Use your own key, for example \"Environment\"."
  }

  validation {
    condition     = can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", var.approval_tag_key)) && !strcontains(var.approval_tag_key, ":") && !strcontains(var.approval_tag_key, ",")
    error_message = "approval_tag_key may hold only letters, digits, spaces and _ . / = + - @, and no \":\" or \",\" (AWS Config's APPROVED_AMIS_BY_TAG uses them as separators)."
  }
}

variable "approval_tag_values" {
  description = "Values of approval_tag_key that mark an AMI as approved (case-sensitive), at most 10 (the AWS Config rule's limit)."
  type        = list(string)
  default     = ["Prod"]

  validation {
    condition     = length(var.approval_tag_values) > 0
    error_message = "approval_tag_values must list at least one value, for example [\"Prod\"]: with none, no AMI could ever be approved by tag."
  }

  validation {
    condition     = length(var.approval_tag_values) <= 10
    error_message = "approval_tag_values may list at most 10 values: AWS Config's APPROVED_AMIS_BY_TAG accepts at most 10 key:value entries."
  }

  validation {
    condition     = alltrue([for value in var.approval_tag_values : length(trimspace(value)) > 0])
    error_message = "approval_tag_values must not contain an empty value: remove it or give the tag value that approves an AMI."
  }

  validation {
    condition     = alltrue([for value in var.approval_tag_values : length(value) <= 256])
    error_message = "Every entry of approval_tag_values must be at most 256 characters, the AWS limit for a tag value."
  }

  validation {
    condition     = alltrue([for value in var.approval_tag_values : !strcontains(value, ",") && !strcontains(value, ":")])
    error_message = "approval_tag_values must not contain \",\" or \":\": AWS Config's APPROVED_AMIS_BY_TAG uses them as separators."
  }

  validation {
    condition     = length(distinct(var.approval_tag_values)) == length(var.approval_tag_values)
    error_message = "approval_tag_values lists a value twice: list each approved value once."
  }
}

variable "approved_ami_ids" {
  description = "AMI IDs approved whatever their tags (for example AMIs shared from another account, whose tags this account cannot see). At most 21; with any, an APPROVED_AMIS_BY_ID Config rule is added."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.approved_ami_ids : can(regex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "approved_ami_ids must hold AMI IDs such as \"ami-0123456789abcdef0\" (\"ami-\" then 8 or 17 lowercase hex digits)."
  }

  validation {
    condition     = length(var.approved_ami_ids) <= 21 && length(join(",", var.approved_ami_ids)) <= 1024
    error_message = "approved_ami_ids may list at most 21 IDs (1024 characters joined), the limit of AWS Config's APPROVED_AMIS_BY_ID: approve the rest by tag or owner."
  }

  validation {
    condition     = length(distinct(var.approved_ami_ids)) == length(var.approved_ami_ids)
    error_message = "approved_ami_ids lists an AMI ID twice: list each ID once."
  }
}

variable "approved_ami_owners" {
  description = "AMI owners approved whatever the tags: 12-digit account IDs, \"amazon\" or \"aws-marketplace\" (matched with ec2:Owner; AWS Config has no owner rule)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for owner in var.approved_ami_owners : can(regex("^([0-9]{12}|amazon|aws-marketplace)$", owner))])
    error_message = "approved_ami_owners must hold 12-digit AWS account IDs, \"amazon\" or \"aws-marketplace\"."
  }
}

################################################################################
# Policy documents
################################################################################

variable "partition" {
  description = "AWS partition the policy ARNs use: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"], var.partition)
    error_message = "partition must be an AWS partition name such as \"aws\", \"aws-cn\" or \"aws-us-gov\"."
  }
}

variable "ami_publisher_arns" {
  description = "IAM role or user ARN patterns (wildcards allowed, for example \"arn:aws:iam::*:role/ami-publisher\") that may add, change or remove the approval tag on AMIs and drive EC2 Image Builder. Empty: nobody the policies bind may."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ami_publisher_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|\\*):(role|user)/[A-Za-z0-9_+=,.@/*?-]+$", arn))])
    error_message = "ami_publisher_arns must hold IAM role or user ARNs such as \"arn:aws:iam::123456789012:role/ami-publisher\" (wildcards * and ? allowed). aws:PrincipalArn holds the role ARN for every session of a role, never an sts:: assumed-role ARN."
  }
}

variable "exempt_principal_arns" {
  description = "IAM role or user ARN patterns exempt from the launch denials (break-glass roles, for example \"arn:aws:iam::*:role/break-glass\"). The roles they name are protected like the publishers'. Keep the list short: each entry grows every document."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.exempt_principal_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|\\*):(role|user)/[A-Za-z0-9_+=,.@/*?-]+$", arn))])
    error_message = "exempt_principal_arns must hold IAM role or user ARNs such as \"arn:aws:iam::123456789012:role/break-glass\" (wildcards * and ? allowed). aws:PrincipalArn holds the role ARN for every session of a role, never an sts:: assumed-role ARN."
  }
}

variable "iam_admin_principal_arns" {
  description = "IAM role or user ARN patterns that may still create, re-trust, pass and change the policies of the roles ami_publisher_arns and exempt_principal_arns name (for example the pipeline that deploys them, \"arn:aws:iam::*:role/iam-admin\"). Used by the SCP only: the identity policy and boundary bind only their holders. Empty: nobody the SCP binds may."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.iam_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|\\*):(role|user)/[A-Za-z0-9_+=,.@/*?-]+$", arn))])
    error_message = "iam_admin_principal_arns must hold IAM role or user ARNs such as \"arn:aws:iam::*:role/iam-admin\" (wildcards * and ? allowed)."
  }
}

################################################################################
# Doors beyond RunInstances
################################################################################

variable "deny_unpinned_launch_template_versions" {
  description = "Deny creating or updating Auto Scaling groups that follow $Latest or $Default of a launch template (autoscaling:LaunchTemplateVersionSpecified): a later version with another AMI would be launched by Auto Scaling's service-linked role without checking the caller. False allows them."
  type        = bool
  default     = true
}

variable "launch_configurations" {
  description = "Which Auto Scaling launch configurations (which never check ec2:RunInstances) may be created: \"approved_ami_ids\" only with an AMI in approved_ami_ids (autoscaling:ImageId; none when the list is empty), \"none\", or \"any\" (no statement). Accounts created on or after 2024-10-01 cannot create launch configurations at all."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["approved_ami_ids", "none", "any"], var.launch_configurations)
    error_message = "launch_configurations must be \"approved_ami_ids\" (only with approved AMI IDs), \"none\" (deny every launch configuration) or \"any\" (no restriction)."
  }
}

variable "restrict_image_builder_to_publishers" {
  description = "Allow only ami_publisher_arns to build, import and distribute AMIs with EC2 Image Builder, whose service-linked role tags the AMIs it distributes. False leaves Image Builder to other grants."
  type        = bool
  default     = true
}

variable "ami_parameter_paths" {
  description = "SSM parameter names, owned by the publishers, that launch templates may give as their image (resolve:ssm:<name>), each starting with / (wildcards allowed, for example \"/golden-ami/*\"). Only ami_publisher_arns may put, label or delete them; a template resolving any other parameter is an audit and check-plan finding. Empty: no statement."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for path in var.ami_parameter_paths : can(regex("^/[A-Za-z0-9_.*/-]+$", path)) && !startswith(path, "/aws/")])
    error_message = "ami_parameter_paths must hold SSM parameter names starting with / (letters, digits, _ . - / and the wildcard *), for example \"/golden-ami/*\"; /aws/ names are Amazon's public parameters, which nobody in the account can change."
  }

  validation {
    condition     = length(distinct(var.ami_parameter_paths)) == length(var.ami_parameter_paths)
    error_message = "ami_parameter_paths lists a path twice: list each parameter name once."
  }
}

variable "restrict_data_lifecycle_manager_to_publishers" {
  description = "Allow only ami_publisher_arns to create or update Data Lifecycle Manager policies, whose AMI policies tag the AMIs they create (TagsToAdd, CopyTags) through the execution role passed to dlm.amazonaws.com. False leaves Data Lifecycle Manager to other grants."
  type        = bool
  default     = true
}

variable "protect_principal_roles" {
  description = "Deny creating, re-trusting, passing and changing the policies or boundary of the roles and users ami_publisher_arns and exempt_principal_arns name (in the SCP, except to iam_admin_principal_arns). False when those roles are managed by principals the policies bind."
  type        = bool
  default     = true
}
