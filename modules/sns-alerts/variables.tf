################################################################################
# Module toggles
################################################################################

variable "create" {
  description = "Create the alerting resources. False creates nothing."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix of the EventBridge rule (<name>-non-compliant), the topic (<name>-alerts) and the KMS alias."
  type        = string
  default     = "approved-amis"

  validation {
    condition     = !var.create || can(regex("^[A-Za-z0-9_-]{1,50}$", var.name))
    error_message = "name must be 1 to 50 characters of letters, digits, _ and - (the EventBridge rule <name>-non-compliant may have at most 64)."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# EventBridge rule
################################################################################

variable "config_rule_names" {
  description = "Names of the AWS Config rules whose NON_COMPLIANT verdicts raise an alert (the config-rule module's rule_names output)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.config_rule_names) > 0 || !var.create
    error_message = "config_rule_names must name at least one AWS Config rule: pass the config-rule module's rule_names output."
  }
}

################################################################################
# Topic
################################################################################

variable "topic_arn" {
  description = "Existing SNS topic to publish to instead of creating one (with its KMS key). Its policy must let events.amazonaws.com publish (EventBridge supports no Condition in SNS topic policies), and its key must let EventBridge use it."
  type        = string
  default     = null

  validation {
    condition     = var.topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN such as \"arn:aws:sns:eu-west-1:123456789012:alerts\", or null to create a topic."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Days the topic's KMS key waits in PendingDeletion after destroy before AWS deletes it (7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number of days from 7 to 30, the range AWS KMS accepts."
  }
}

variable "subscriptions" {
  description = "Who receives the alerts: a list of {protocol, endpoint}, for example {protocol = \"email\", endpoint = \"secops@example.com\"}. Email endpoints must confirm the subscription."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "email-json", "http", "https", "sqs", "lambda", "sms", "application"], s.protocol)])
    error_message = "Each subscription's protocol must be one of email, email-json, http, https, sqs, lambda, sms, application."
  }

  validation {
    condition     = alltrue([for s in var.subscriptions : length(trimspace(s.endpoint)) > 0])
    error_message = "Each subscription needs an endpoint: an email address, URL, phone number or ARN, depending on the protocol."
  }

  validation {
    condition     = length(distinct([for s in var.subscriptions : "${s.protocol}:${s.endpoint}"])) == length(var.subscriptions)
    error_message = "subscriptions lists the same protocol and endpoint twice: list each subscriber once."
  }
}

################################################################################
# Dead-letter queue and alarm
################################################################################

variable "dead_letter_queue_message_retention_seconds" {
  description = "Seconds the dead-letter queue keeps the alerts EventBridge could not deliver (60 to 1209600, 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600 && floor(var.dead_letter_queue_message_retention_seconds) == var.dead_letter_queue_message_retention_seconds
    error_message = "dead_letter_queue_message_retention_seconds must be a whole number of seconds from 60 to 1209600 (14 days), the range Amazon SQS accepts."
  }
}

variable "failed_invocations_alarm_actions" {
  description = "ARNs notified when EventBridge fails to deliver an alert (the CloudWatch alarm on the rule's FailedInvocations), for example an SNS topic other than the alerts topic. Empty: the alarm only shows in CloudWatch."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.failed_invocations_alarm_actions : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", arn))])
    error_message = "failed_invocations_alarm_actions must hold ARNs, such as \"arn:aws:sns:eu-west-1:123456789012:ops-pager\"."
  }

  validation {
    condition     = length(var.failed_invocations_alarm_actions) <= 5
    error_message = "failed_invocations_alarm_actions may name at most 5 actions, the limit of a CloudWatch alarm."
  }
}
