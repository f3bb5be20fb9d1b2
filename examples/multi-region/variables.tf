variable "primary_region" {
  description = "Region of the IAM policy's home, its Config rule and the alerts topic every region reports to."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.primary_region))
    error_message = "primary_region must be a region name such as eu-west-1."
  }
}

variable "secondary_region" {
  description = "A further region with its own Config rule, whose alerts go to the topic of primary_region."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.secondary_region)) && var.secondary_region != var.primary_region
    error_message = "secondary_region must be a region name such as us-east-1, other than primary_region."
  }
}
