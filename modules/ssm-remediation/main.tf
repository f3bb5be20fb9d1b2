data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

locals {
  partition  = try(data.aws_partition.current[0].partition, "aws")
  account_id = try(data.aws_caller_identity.current[0].account_id, "")

  documents = {
    stop      = { name = "AWS-StopEC2Instance", action = "ec2:StopInstances" }
    terminate = { name = "AWS-TerminateEC2Instance", action = "ec2:TerminateInstances" }
  }
  document = local.documents[var.action]

  role_name = "${var.name}-ssm-remediation"
  # Built rather than read from the role, so the remediation parameters are known at plan time.
  role_arn = "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${local.role_name}"
}

################################################################################
# Automation role
################################################################################

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name        = local.role_name
  path        = var.role_path
  description = "Assumed by SSM Automation to ${var.action} EC2 instances that run unapproved AMIs, except those tagged ${var.exemption_tag_key}."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowSsmAutomationOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "ssm.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ssm:*:${local.account_id}:automation-execution/*" }
      }
    }]
  })
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name = "${var.action}-unapproved-instances"
  role = aws_iam_role.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowRemediationOfInstancesNotExempt"
        Effect    = "Allow"
        Action    = local.document.action
        Resource  = "arn:${local.partition}:ec2:*:${local.account_id}:instance/*"
        Condition = { Null = { "ec2:ResourceTag/${var.exemption_tag_key}" = "true" } }
      },
      {
        # DescribeInstanceStatus has no resource-level permissions: "*" is the only resource it accepts.
        Sid      = "AllowWaitingForTheInstanceState"
        Effect   = "Allow"
        Action   = "ec2:DescribeInstanceStatus"
        Resource = "*"
      },
    ]
  })
}

################################################################################
# Remediation configuration
################################################################################

resource "aws_config_remediation_configuration" "this" {
  for_each = toset(var.create && var.create_remediation_configuration ? var.config_rule_names : [])

  config_rule_name = each.value
  resource_type    = "AWS::EC2::Instance"
  target_type      = "SSM_DOCUMENT"
  target_id        = local.document.name

  automatic                  = var.automatic
  maximum_automatic_attempts = var.automatic ? var.maximum_automatic_attempts : null
  retry_attempt_seconds      = var.automatic ? var.retry_attempt_seconds : null

  parameter {
    name         = "AutomationAssumeRole"
    static_value = local.role_arn
  }

  parameter {
    name           = "InstanceId"
    resource_value = "RESOURCE_ID"
  }

  depends_on = [aws_iam_role.this, aws_iam_role_policy.this]
}
