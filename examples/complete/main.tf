# Complete: every layer on, with custom approval values, AMIs approved by ID and by owner,
# AMI publishers, a permissions boundary, and the policy attached to a role, a group and a user;
# AWS Config rules with their own recorder, e-mail alerts, and manual stop remediation.

provider "aws" {
  region = var.region
}

data "aws_iam_policy_document" "assume_by_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "deployer" {
  name               = "approved-amis-complete-deployer"
  assume_role_policy = data.aws_iam_policy_document.assume_by_ec2.json
}

resource "aws_iam_group" "operators" {
  name = "approved-amis-complete-operators"
}

resource "aws_iam_user" "ci" {
  #checkov:skip=CKV_AWS_273:Stands for an IAM user that already exists (a CI system's): the example shows the guardrail covering it; the module creates no users.
  name = "approved-amis-complete-ci"
}

module "approved_amis" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  name = "approved-amis-complete"
  tags = { Project = "approved-amis" }

  approval_tag_key    = "Environment"
  approval_tag_values = ["Prod", "Production"]
  approved_ami_ids    = ["ami-0123456789abcdef0"]
  # Amazon's images (IAM sees ec2:Owner = amazon, not Amazon's account ID) and the golden-AMI account's.
  approved_ami_owners = ["amazon", "444455556666"]
  ami_publisher_arns  = ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]
  # Launch configurations only with the AMI IDs above (accounts created since 2024-10-01 have none at all).
  launch_configurations = "approved_ami_ids"
  # Launch templates may take their image from these publisher-owned SSM parameters (resolve:ssm:).
  ami_parameter_paths = ["/golden-ami/*"]

  create_iam_boundary_policy = true
  iam_attach_to_role_names   = [aws_iam_role.deployer.name]
  iam_attach_to_group_names  = [aws_iam_group.operators.name]
  iam_attach_to_user_names   = [aws_iam_user.ci.name]

  create_config_recorder                  = true
  config_delivery_s3_bucket_force_destroy = true

  create_sns_alerts                   = true
  sns_kms_key_deletion_window_in_days = 7
  sns_subscriptions                   = [{ protocol = "email", endpoint = "secops@example.com" }]
  # Undelivered alerts wait in a dead-letter queue; this alarm says that they do.
  sns_failed_invocations_alarm_actions = var.alert_delivery_alarm_actions

  create_ssm_remediation               = true
  create_ssm_remediation_configuration = var.create_ssm_remediation_configuration
  ssm_remediation_action               = "stop"
  exemption_tag_key                    = "AmiGuardExempt"
}
