################################################################################
# Module toggle
################################################################################

variable "create" {
  description = "Create the audit role. False plans zero resources."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}

################################################################################
# Role
################################################################################

variable "role_name" {
  description = "Name of the role `approved-amis audit --organization --role-name` assumes in this account (1 to 64 of A-Z a-z 0-9 +=,.@_-). The same name in every account."
  type        = string
  default     = "ApprovedAmisAudit"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be 1 to 64 letters, digits or +=,.@_- (an IAM role name)."
  }
}

variable "trusted_principal_arns" {
  description = "ARNs of the principals that run the audit and may assume the role: the auditor's role or user in the management or delegated account (arn:<partition>:iam::<12 digits>:role/NAME, user/NAME or root). At least one."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(role|user)/[\\w+=,.@/-]+)$", arn))])
    error_message = "Each trusted_principal_arns entry must be an IAM role, user or account root ARN, e.g. arn:aws:iam::111111111111:role/auditor."
  }

  validation {
    condition     = !var.create || length(var.trusted_principal_arns) > 0
    error_message = "trusted_principal_arns must name at least one principal that runs the audit (or set create = false)."
  }
}

variable "external_id" {
  description = "External ID the caller must pass (--external-id), or null for none (2 to 1224 of A-Z a-z 0-9 +=,.@:/_-)."
  type        = string
  default     = null

  validation {
    # Length apart: RE2 allows at most 1000 repetitions.
    condition     = var.external_id == null || (length(coalesce(var.external_id, "-")) >= 2 && length(coalesce(var.external_id, "-")) <= 1224 && can(regex("^[\\w+=,.@:/-]+$", coalesce(var.external_id, "-"))))
    error_message = "external_id must be null or 2 to 1224 letters, digits or +=,.@:/_-."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, the role allows (3600 to 43200). The audit renews its credentials before they expire, so one hour suits any scan."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200 && floor(var.max_session_duration) == var.max_session_duration
    error_message = "max_session_duration must be a whole number of seconds from 3600 to 43200."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a permissions boundary for the role, or null."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN."
  }
}
