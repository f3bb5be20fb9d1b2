data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

################################################################################
# Approval rule: rendered once, for every layer
################################################################################

module "approval_rule" {
  source = "./modules/approval-rule"

  approval_tag_key    = var.approval_tag_key
  approval_tag_values = var.approval_tag_values
  approved_ami_ids    = var.approved_ami_ids
  approved_ami_owners = var.approved_ami_owners
  ami_publisher_arns  = var.ami_publisher_arns
  partition           = try(data.aws_partition.current[0].partition, "aws")

  exempt_principal_arns                  = var.exempt_principal_arns
  deny_unpinned_launch_template_versions = var.deny_unpinned_launch_template_versions
  launch_configurations                  = var.launch_configurations
  restrict_image_builder_to_publishers   = var.restrict_image_builder_to_publishers
  ami_parameter_paths                    = var.ami_parameter_paths

  restrict_data_lifecycle_manager_to_publishers = var.restrict_data_lifecycle_manager_to_publishers
  protect_principal_roles                       = var.protect_principal_roles
}

################################################################################
# Prevent: IAM policy
################################################################################

module "iam_policy" {
  source = "./modules/iam-policy"

  create                 = var.create && (var.create_iam_policy || var.create_iam_boundary_policy)
  create_policy          = var.create_iam_policy
  create_boundary_policy = var.create_iam_boundary_policy

  name = var.name
  path = var.iam_policy_path
  tags = var.tags

  approval_rule = module.approval_rule

  attach_to_role_names  = var.iam_attach_to_role_names
  attach_to_group_names = var.iam_attach_to_group_names
  attach_to_user_names  = var.iam_attach_to_user_names
}

################################################################################
# Detect: AWS Config rules
################################################################################

module "config_rule" {
  source = "./modules/config-rule"

  create = var.create && var.create_config_rule
  name   = var.name
  tags   = var.tags

  approval_rule = module.approval_rule

  scope_tag_key   = var.config_rule_scope_tag_key
  scope_tag_value = var.config_rule_scope_tag_value

  create_recorder                  = var.create_config_recorder
  recorder_name                    = var.config_recorder_name
  delivery_s3_bucket_name          = var.config_delivery_s3_bucket_name
  delivery_s3_bucket_force_destroy = var.config_delivery_s3_bucket_force_destroy
}

################################################################################
# Alert: EventBridge to SNS
################################################################################

module "sns_alerts" {
  source = "./modules/sns-alerts"

  create = var.create && var.create_sns_alerts
  name   = var.name
  tags   = var.tags

  config_rule_names               = module.config_rule.rule_names
  topic_arn                       = var.sns_topic_arn
  kms_key_deletion_window_in_days = var.sns_kms_key_deletion_window_in_days
  subscriptions                   = var.sns_subscriptions

  dead_letter_queue_message_retention_seconds = var.sns_dead_letter_queue_message_retention_seconds
  failed_invocations_alarm_actions            = var.sns_failed_invocations_alarm_actions
}

################################################################################
# Respond: SSM remediation
################################################################################

module "ssm_remediation" {
  source = "./modules/ssm-remediation"

  create                           = var.create && var.create_ssm_remediation
  create_remediation_configuration = var.create_ssm_remediation_configuration
  name                             = var.name
  tags                             = var.tags

  config_rule_names          = module.config_rule.rule_names
  action                     = var.ssm_remediation_action
  automatic                  = var.ssm_remediation_automatic
  maximum_automatic_attempts = var.ssm_remediation_maximum_automatic_attempts
  retry_attempt_seconds      = var.ssm_remediation_retry_attempt_seconds
  exemption_tag_key          = var.exemption_tag_key
}
