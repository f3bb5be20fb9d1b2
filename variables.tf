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

################################################################################
# Detect: AWS Config rules
################################################################################

variable "create_config_rule" {
  description = "Create the AWS Config rules APPROVED_AMIS_BY_TAG (and APPROVED_AMIS_BY_ID when approved_ami_ids is set). Needs a configuration recorder in the region: the account's own, or create_config_recorder = true."
  type        = bool
  default     = true
}

variable "config_rule_scope_tag_key" {
  description = "Evaluate only EC2 instances carrying this tag key (null: every instance)."
  type        = string
  default     = null
}

variable "config_rule_scope_tag_value" {
  description = "With config_rule_scope_tag_key: evaluate only instances whose tag has this value (null: any value)."
  type        = string
  default     = null
}

variable "create_config_recorder" {
  description = "Also create a configuration recorder (recording EC2 instances), its status, a delivery channel and, unless config_delivery_s3_bucket_name is set, its S3 bucket. Only one recorder may exist per region: leave false when the account already uses AWS Config."
  type        = bool
  default     = false

  validation {
    condition     = !var.create_config_recorder || var.create_config_rule
    error_message = "create_config_recorder = true needs create_config_rule = true: the recorder is part of the Config layer. Turn both on, or leave create_config_recorder = false."
  }
}

variable "config_recorder_name" {
  description = "Name of the configuration recorder and delivery channel created with create_config_recorder."
  type        = string
  default     = "default"
}

variable "config_delivery_s3_bucket_name" {
  description = "Existing S3 bucket for the delivery channel created with create_config_recorder. Null: the module creates an encrypted, versioned, private bucket."
  type        = string
  default     = null
}

variable "config_delivery_s3_bucket_force_destroy" {
  description = "Let terraform destroy the created delivery bucket even when it holds Config snapshots."
  type        = bool
  default     = false
}

################################################################################
# Alert: EventBridge to SNS
################################################################################

variable "create_sns_alerts" {
  description = "Publish every NON_COMPLIANT verdict of the Config rules to an SNS topic (KMS-encrypted, created unless sns_topic_arn is set) through EventBridge."
  type        = bool
  default     = true

  validation {
    condition     = !var.create_sns_alerts || var.create_config_rule
    error_message = "create_sns_alerts = true needs create_config_rule = true: alerts report the Config rules' verdicts. Turn the Config rule on, or set create_sns_alerts = false."
  }
}

variable "sns_topic_arn" {
  description = "Existing SNS topic for the alerts instead of a new one. Its policy must let events.amazonaws.com publish (EventBridge supports no Condition in SNS topic policies); when encrypted, its KMS key must let EventBridge use it."
  type        = string
  default     = null
}

variable "sns_kms_key_deletion_window_in_days" {
  description = "Days the alert topic's KMS key waits in PendingDeletion after destroy (7 to 30)."
  type        = number
  default     = 30
}

variable "sns_subscriptions" {
  description = "Subscribers to the alerts: a list of {protocol, endpoint}, for example [{protocol = \"email\", endpoint = \"secops@example.com\"}]."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "sns_dead_letter_queue_message_retention_seconds" {
  description = "Seconds the alerts' dead-letter queue keeps what EventBridge could not deliver to the topic (60 to 1209600, 14 days)."
  type        = number
  default     = 1209600
}

variable "sns_failed_invocations_alarm_actions" {
  description = "ARNs notified when EventBridge fails to deliver an alert (CloudWatch alarm on the rule's FailedInvocations), for example an on-call topic other than the alerts topic. Empty: the alarm only shows in CloudWatch."
  type        = list(string)
  default     = []
}

################################################################################
# Respond: SSM remediation
################################################################################

variable "create_ssm_remediation" {
  description = "Create an SSM Automation role and attach a remediation (stop, or terminate) to the Config rules. Off by default: it acts on workloads."
  type        = bool
  default     = false

  validation {
    condition     = !var.create_ssm_remediation || var.create_config_rule
    error_message = "create_ssm_remediation = true needs create_config_rule = true: remediation acts on the Config rules' verdicts. Turn the Config rule on, or set create_ssm_remediation = false."
  }
}

variable "create_ssm_remediation_configuration" {
  description = "With create_ssm_remediation: attach the remediation configuration to the Config rules. False creates only the automation role, for an endpoint that does not serve Config remediation configurations or a team that attaches remediation itself."
  type        = bool
  default     = true
}

variable "ssm_remediation_action" {
  description = "What remediation does to an instance running an unapproved AMI: \"stop\" (AWS-StopEC2Instance) or \"terminate\" (AWS-TerminateEC2Instance, irreversible)."
  type        = string
  default     = "stop"
}

variable "ssm_remediation_automatic" {
  description = "Remediate automatically as soon as Config reports an instance NON_COMPLIANT. False (default): an operator starts each remediation."
  type        = bool
  default     = false

  validation {
    condition     = !(var.create_ssm_remediation && var.ssm_remediation_automatic) || length(var.approved_ami_ids) == 0
    error_message = "ssm_remediation_automatic = true cannot be combined with approved_ami_ids: an instance approved by ID is NON_COMPLIANT under the tag rule and would be remediated. Keep remediation manual, or approve by tag only."
  }
}

variable "ssm_remediation_maximum_automatic_attempts" {
  description = "With ssm_remediation_automatic: attempts per non-compliant instance (1 to 25)."
  type        = number
  default     = 5
}

variable "ssm_remediation_retry_attempt_seconds" {
  description = "With ssm_remediation_automatic: seconds within which the attempts may run (1 to 2678000)."
  type        = number
  default     = 60
}

variable "exemption_tag_key" {
  description = "Instances carrying this tag key (any value) are never stopped or terminated by the remediation: the automation role may act only on instances without it."
  type        = string
  default     = "AmiGuardExempt"
}
