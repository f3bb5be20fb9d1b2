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

variable "alert_delivery_alarm_actions" {
  description = "ARNs (an on-call SNS topic, for example) told when EventBridge cannot deliver an alert to the alerts topic."
  type        = list(string)
  default     = []
}
