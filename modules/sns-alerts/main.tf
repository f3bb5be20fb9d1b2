data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

# `id` is the region name under provider 5 and 6 alike: `name` is deprecated in 6, `region` absent in 5.
data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  create_topic = var.create && var.topic_arn == null

  partition  = try(data.aws_partition.current[0].partition, "aws")
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  region     = try(data.aws_region.current[0].id, "")

  rule_name = "${var.name}-non-compliant"
  # Built rather than read from the resources, so the policies below are known at plan time.
  rule_arn   = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.rule_name}"
  topic_name = "${var.name}-alerts"
  topic_arn  = local.create_topic ? "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}" : var.topic_arn
}

################################################################################
# KMS key
################################################################################

resource "aws_kms_key" "this" {
  count = local.create_topic ? 1 : 0

  description             = "Encrypts the ${local.topic_name} SNS topic; EventBridge may use it to publish approved-AMI alerts."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowAccountToAdministerTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AllowEventBridgeToPublishToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_topic ? 1 : 0

  name          = "alias/${local.topic_name}"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Topic
################################################################################

resource "aws_sns_topic" "this" {
  count = local.create_topic ? 1 : 0

  name              = local.topic_name
  display_name      = "Approved AMIs"
  kms_master_key_id = aws_kms_key.this[0].arn

  tags = var.tags
}

resource "aws_sns_topic_policy" "this" {
  count = local.create_topic ? 1 : 0

  arn = aws_sns_topic.this[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowPublishFromTheComplianceRule"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = local.topic_arn
        Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = local.topic_arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "this" {
  for_each = { for s in(var.create ? var.subscriptions : []) : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = var.topic_arn == null ? aws_sns_topic.this[0].arn : var.topic_arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

################################################################################
# EventBridge rule
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  count = var.create ? 1 : 0

  name        = local.rule_name
  description = "AWS Config found an EC2 instance running an AMI that is not approved."
  event_pattern = jsonencode({
    source        = ["aws.config"]
    "detail-type" = ["Config Rules Compliance Change"]
    detail = {
      configRuleName      = var.config_rule_names
      newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = var.create ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "sns"
  arn       = var.topic_arn == null ? aws_sns_topic.this[0].arn : var.topic_arn

  input_transformer {
    input_paths = {
      account    = "$.detail.awsAccountId"
      region     = "$.detail.awsRegion"
      rule       = "$.detail.configRuleName"
      instance   = "$.detail.resourceId"
      annotation = "$.detail.newEvaluationResult.annotation"
      time       = "$.detail.newEvaluationResult.resultRecordedTime"
    }
    input_template = "\"Unapproved AMI: EC2 instance <instance> in account <account>, region <region>, is NON_COMPLIANT with AWS Config rule <rule> since <time>. AMI: <annotation>\""
  }

  depends_on = [aws_sns_topic_policy.this]
}
