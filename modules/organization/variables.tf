################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create anything at all. False plans zero resources, whatever the other toggles say."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the policies, rules, aggregator and role this module creates, used as a prefix where several exist (1 to 46 letters, digits, - and _)."
  type        = string
  default     = "approved-amis"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,46}$", var.name))
    error_message = "name must be 1 to 46 letters, digits, - or _ (it prefixes Config rule names of at most 64 characters and the aggregator's IAM role name)."
  }
}

variable "tags" {
  description = "Tags added to every resource that supports them."
  type        = map(string)
  default     = {}
}

################################################################################
# Approval rule
################################################################################

variable "approval_tag_key" {
  description = "Tag key that marks an AMI as approved (for example Environment). Only ami_publisher_arns may add, change or remove it on images."
  type        = string
  default     = "Environment"
}

variable "approval_tag_values" {
  description = "Values of approval_tag_key that mark an AMI as approved (case-sensitive), at most 10 (the AWS Config rule's limit)."
  type        = list(string)
  default     = ["Prod"]
}

variable "approved_ami_ids" {
  description = "AMI IDs approved whatever their tags (for example AMIs shared from another account, whose tags this account cannot see). At most 21; with any, an APPROVED_AMIS_BY_ID Config rule is added."
  type        = list(string)
  default     = []
}

variable "approved_ami_owners" {
  description = "AMI owners approved whatever the tags: 12-digit account IDs, \"amazon\" or \"aws-marketplace\" (matched with ec2:Owner; AWS Config has no owner rule)."
  type        = list(string)
  default     = []
}

variable "ami_publisher_arns" {
  description = "IAM role or user ARN patterns (wildcards allowed, for example \"arn:aws:iam::*:role/ami-publisher\") that may add, change or remove the approval tag on AMIs and drive EC2 Image Builder. Empty: nobody the policies bind may."
  type        = list(string)
  default     = []
}

variable "exempt_principal_arns" {
  description = "IAM role or user ARN patterns exempt from the launch denials (break-glass roles, for example \"arn:aws:iam::*:role/break-glass\"). The roles they name are protected like the publishers'. Keep the list short: each entry grows every document."
  type        = list(string)
  default     = []
}

variable "iam_admin_principal_arns" {
  description = "IAM role or user ARN patterns that may still create, re-trust, pass and change the policies of the roles ami_publisher_arns and exempt_principal_arns name (for example the pipeline that deploys them, \"arn:aws:iam::*:role/iam-admin\"). Used by the SCP only: the identity policy and boundary bind only their holders. Empty: nobody the SCP binds may."
  type        = list(string)
  default     = []
}

variable "deny_unpinned_launch_template_versions" {
  description = "Deny creating or updating Auto Scaling groups that follow $Latest or $Default of a launch template (autoscaling:LaunchTemplateVersionSpecified): a later version with another AMI would be launched by Auto Scaling's service-linked role without checking the caller. False allows them."
  type        = bool
  default     = true
}

variable "launch_configurations" {
  description = "Which Auto Scaling launch configurations (which never check ec2:RunInstances) may be created: \"approved_ami_ids\" only with an AMI in approved_ami_ids (autoscaling:ImageId; none when the list is empty), \"none\", or \"any\" (no statement). Accounts created on or after 2024-10-01 cannot create launch configurations at all."
  type        = string
  default     = "none"
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

################################################################################
# Targets
################################################################################

variable "target_ids" {
  description = "Organization root (r-xxxx), OU (ou-xxxx-xxxxxxxx) or account (12 digits) IDs both organization policies are attached to, unless scp_target_ids or allowed_amis_policy_target_ids say otherwise."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.target_ids : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|[0-9]{12})$", id))])
    error_message = "target_ids must hold organization root IDs (\"r-\" then 4 to 32 lowercase letters or digits), OU IDs (\"ou-ab12-cd34ef56\") or 12-digit account IDs."
  }

  validation {
    condition     = length(distinct(var.target_ids)) == length(var.target_ids)
    error_message = "target_ids lists a target twice: list each root, OU or account ID once."
  }
}

################################################################################
# Service control policy
################################################################################

variable "create_scp" {
  description = "Create the service control policy: the IAM layer's denials (launches from unapproved AMIs, approval tag changes) for every principal in the targeted accounts."
  type        = bool
  default     = true

  validation {
    condition     = !(var.create && var.create_scp) || local.scp_largest <= local.scp_max_characters
    error_message = "An SCP document would be ${local.scp_largest} characters, over the 5,120 AWS Organizations allows for a service control policy. Shorten it: approve AMIs by tag or owner instead of long approved_ami_ids lists, use fewer approval_tag_values, and replace lists of ami_publisher_arns or exempt_principal_arns with wildcard patterns (for example \"arn:aws:iam::*:role/ami-publisher\")."
  }
}

variable "scp_description" {
  description = "Description of the service control policy."
  type        = string
  default     = "Denies EC2 launches from unapproved AMIs and changes to the AMI approval tag."
}

variable "attach_scp" {
  description = "Attach the service control policy to scp_target_ids (or target_ids). False creates it unattached."
  type        = bool
  default     = true

  validation {
    condition     = !(var.create && var.create_scp && var.attach_scp) || length(coalesce(var.scp_target_ids, var.target_ids)) > 0
    error_message = "attach_scp is true but there is nothing to attach the SCP to: list the root, OU or account IDs in target_ids (or scp_target_ids), or set attach_scp = false to create the policy unattached."
  }
}

variable "scp_target_ids" {
  description = "Root, OU or account IDs the service control policy is attached to; null uses target_ids."
  type        = list(string)
  default     = null

  validation {
    condition     = var.scp_target_ids == null || alltrue([for id in coalesce(var.scp_target_ids, []) : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|[0-9]{12})$", id))])
    error_message = "scp_target_ids must hold organization root IDs (\"r-\" then 4 to 32 lowercase letters or digits), OU IDs (\"ou-ab12-cd34ef56\") or 12-digit account IDs."
  }

  validation {
    condition     = var.scp_target_ids == null || length(distinct(coalesce(var.scp_target_ids, []))) == length(coalesce(var.scp_target_ids, []))
    error_message = "scp_target_ids lists a target twice: list each root, OU or account ID once."
  }
}

################################################################################
# Organization Config rules
################################################################################

variable "create_config_rule" {
  description = "Create organization Config rules APPROVED_AMIS_BY_TAG and, when approved_ami_ids is set, APPROVED_AMIS_BY_ID in every member account (needs trusted access for config-multiaccountsetup.amazonaws.com and a configuration recorder in each account)."
  type        = bool
  default     = true

  validation {
    condition     = !(var.create && var.create_config_rule) || local.config_rule_parameters_characters <= local.config_rule_parameters_max_characters
    error_message = "The organization Config rules' input_parameters would be ${local.config_rule_parameters_characters} characters, over the 1,024 AWS Config allows: use shorter or fewer approval_tag_values, or a shorter approval_tag_key."
  }
}

variable "config_rule_excluded_account_ids" {
  description = "12-digit IDs of member accounts the organization Config rules are not deployed to (for example sandbox or log-archive accounts)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.config_rule_excluded_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "config_rule_excluded_account_ids must hold 12-digit AWS account IDs such as \"111122223333\"."
  }

  validation {
    condition     = length(var.config_rule_excluded_account_ids) <= 1000
    error_message = "config_rule_excluded_account_ids may list at most 1000 accounts, the AWS Config limit for an organization rule."
  }
}

################################################################################
# EC2 Allowed AMIs (declarative policy)
################################################################################

variable "create_allowed_amis_policy" {
  description = "Create the EC2 Allowed AMIs declarative policy (DECLARATIVE_POLICY_EC2; the policy type must be enabled on the organization root). It selects images by provider, name, product code and age, never by tag."
  type        = bool
  default     = true
}

variable "allowed_amis_policy_description" {
  description = "Description of the EC2 Allowed AMIs declarative policy."
  type        = string
  default     = "EC2 Allowed AMIs: which image providers, names and ages member accounts may discover and launch."
}

variable "allowed_amis_state" {
  description = "State of Allowed AMIs in the targeted accounts: \"audit_mode\" (report images that would not be allowed, block nothing) or \"enabled\" (only images matching allowed_amis_criteria can be discovered and launched)."
  type        = string
  default     = "audit_mode"

  validation {
    condition     = contains(["audit_mode", "enabled"], var.allowed_amis_state)
    error_message = "allowed_amis_state must be \"audit_mode\" (report only, the safe start) or \"enabled\" (enforce)."
  }
}

variable "allowed_amis_criteria" {
  description = "Up to 10 image criteria; an image is allowed when it matches every field of at least one. Fields: image_providers (amazon, aws-marketplace, aws-backup-vault, 12-digit account IDs, or none alone for the account's own AMIs; up to 200), image_names (wildcards * and ?; up to 50), marketplace_product_codes (up to 50), maximum_days_since_created and maximum_days_since_deprecated (whole days). AMIs an account owns are always allowed."
  type = list(object({
    image_providers               = optional(list(string), [])
    image_names                   = optional(list(string), [])
    marketplace_product_codes     = optional(list(string), [])
    maximum_days_since_created    = optional(number)
    maximum_days_since_deprecated = optional(number)
  }))
  default = [{ image_providers = ["amazon"] }]

  validation {
    condition     = length(var.allowed_amis_criteria) >= 1 && length(var.allowed_amis_criteria) <= 10
    error_message = "allowed_amis_criteria must list 1 to 10 criteria (the Allowed AMIs limit), for example [{ image_providers = [\"amazon\", \"111122223333\"] }]."
  }

  validation {
    condition     = alltrue([for c in var.allowed_amis_criteria : length(c.image_providers) + length(c.image_names) + length(c.marketplace_product_codes) > 0 || c.maximum_days_since_created != null || c.maximum_days_since_deprecated != null])
    error_message = "Every entry of allowed_amis_criteria must set at least one field (image_providers, image_names, marketplace_product_codes, maximum_days_since_created or maximum_days_since_deprecated)."
  }

  validation {
    condition     = alltrue(flatten([for c in var.allowed_amis_criteria : [for p in c.image_providers : can(regex("^(amazon|aws-marketplace|aws-backup-vault|none|[0-9]{12})$", p))]]))
    error_message = "image_providers in allowed_amis_criteria may hold only \"amazon\", \"aws-marketplace\", \"aws-backup-vault\", 12-digit account IDs, or \"none\" alone."
  }

  validation {
    condition     = alltrue([for c in var.allowed_amis_criteria : !contains(c.image_providers, "none") || length(c.image_providers) == 1])
    error_message = "image_providers \"none\" (only the account's own AMIs) must stand alone in its criterion: remove the other providers or put them in another criterion."
  }

  validation {
    condition     = alltrue([for c in var.allowed_amis_criteria : length(c.image_providers) <= 200 && length(c.image_names) <= 50 && length(c.marketplace_product_codes) <= 50])
    error_message = "An allowed_amis_criteria entry may hold at most 200 image_providers, 50 image_names and 50 marketplace_product_codes: split the list over several criteria."
  }

  validation {
    condition     = alltrue(flatten([for c in var.allowed_amis_criteria : [for n in c.image_names : can(regex("^[A-Za-z0-9()\\[\\]./'@_*? -]{1,128}$", n)) && (!strcontains(n, "?") || length(n) >= 3)]]))
    error_message = "image_names in allowed_amis_criteria must be 1 to 128 letters, digits, spaces or ( ) [ ] . / - ' @ _ with wildcards * and ? (at least 3 characters when using ?)."
  }

  validation {
    condition     = alltrue(flatten([for c in var.allowed_amis_criteria : [for code in c.marketplace_product_codes : can(regex("^[A-Za-z0-9]{1,25}$", code))]]))
    error_message = "marketplace_product_codes in allowed_amis_criteria must be 1 to 25 letters and digits."
  }

  validation {
    condition = alltrue([for c in var.allowed_amis_criteria : alltrue([
      for days in [c.maximum_days_since_created, c.maximum_days_since_deprecated] : days == null ? true : (days >= 0 && days <= 2147483647 && floor(days) == days)
    ])])
    error_message = "maximum_days_since_created and maximum_days_since_deprecated must be whole numbers of days from 0 to 2147483647."
  }
}

variable "attach_allowed_amis_policy" {
  description = "Attach the Allowed AMIs declarative policy to allowed_amis_policy_target_ids (or target_ids). False creates it unattached."
  type        = bool
  default     = true

  validation {
    condition     = !(var.create && var.create_allowed_amis_policy && var.attach_allowed_amis_policy) || length(coalesce(var.allowed_amis_policy_target_ids, var.target_ids)) > 0
    error_message = "attach_allowed_amis_policy is true but there is nothing to attach the Allowed AMIs policy to: list the root, OU or account IDs in target_ids (or allowed_amis_policy_target_ids), or set attach_allowed_amis_policy = false."
  }
}

variable "allowed_amis_policy_target_ids" {
  description = "Root, OU or account IDs the Allowed AMIs declarative policy is attached to; null uses target_ids."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_amis_policy_target_ids == null || alltrue([for id in coalesce(var.allowed_amis_policy_target_ids, []) : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|[0-9]{12})$", id))])
    error_message = "allowed_amis_policy_target_ids must hold organization root IDs (\"r-\" then 4 to 32 lowercase letters or digits), OU IDs (\"ou-ab12-cd34ef56\") or 12-digit account IDs."
  }

  validation {
    condition     = var.allowed_amis_policy_target_ids == null || length(distinct(coalesce(var.allowed_amis_policy_target_ids, []))) == length(coalesce(var.allowed_amis_policy_target_ids, []))
    error_message = "allowed_amis_policy_target_ids lists a target twice: list each root, OU or account ID once."
  }
}

################################################################################
# Config aggregator
################################################################################

variable "create_aggregator" {
  description = "Create an organization-wide AWS Config aggregator: one view of every account's compliance with the approved-AMI rules."
  type        = bool
  default     = false
}

variable "aggregator_role_arn" {
  description = "ARN of an existing IAM role AWS Config assumes to read the organization (with AWSConfigRoleForOrganizations); null creates one named <name>-config-aggregator."
  type        = string
  default     = null

  validation {
    condition     = var.aggregator_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$", coalesce(var.aggregator_role_arn, "-")))
    error_message = "aggregator_role_arn must be an IAM role ARN such as \"arn:aws:iam::111122223333:role/config-aggregator\", or null to create the role."
  }
}

variable "aggregator_regions" {
  description = "Regions the aggregator collects from; empty collects from all regions, including future ones."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for region in var.aggregator_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", region))])
    error_message = "aggregator_regions must hold region names such as \"eu-west-1\", or be empty for all regions."
  }
}
