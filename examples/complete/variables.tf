variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "create_ssm_remediation_configuration" {
  description = "Attach the SSM remediation to the Config rules. make demo and the apply test set false: the local emulator does not serve Config remediation configurations."
  type        = bool
  default     = true
}
