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
  queue_name = "${var.name}-alerts-dead-letter"
  queue_arn  = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.queue_name}"
  topic_arn  = local.create_topic ? "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}" : var.topic_arn
}

################################################################################
# KMS key
################################################################################

resource "aws_kms_key" "this" {
  count = local.create_topic ? 1 : 0

  description             = "Encrypts the ${local.topic_name} SNS topic and its dead-letter queue; EventBridge may use it to deliver approved-AMI alerts."
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
        # Also what EventBridge needs to send to the dead-letter queue encrypted with this key: SQS
        # Developer Guide, "Configure KMS permissions for AWS services": "To allow these event sources to
        # work with encrypted queues, you must create a customer managed CMK and add permissions in the
        # key policy for the service to use the required AWS KMS API methods" (kms:GenerateDataKey,
        # kms:Decrypt).
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
        # No Condition: EventBridge User Guide, "Using resource-based policies for Amazon EventBridge",
        # Amazon SNS permissions: "You can't use of Condition blocks in Amazon SNS topic policies for
        # EventBridge." An aws:SourceArn condition here would refuse every delivery. Any EventBridge rule
        # that names this topic may publish to it; the topic holds alerts only, and the key and topic
        # policies keep every other principal out.
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
        Sid       = "AllowPublishFromEventBridge"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = local.topic_arn
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

# A topic created here with no subscriber delivers every alert to no one. A warning at plan time, not an
# error: an apply before the subscribers are known (or added outside Terraform) is legitimate.
check "alerts_have_a_subscriber" {
  assert {
    condition     = !local.create_topic || length(var.subscriptions) > 0
    error_message = "The alerts topic ${local.topic_name} has no subscriber: NON_COMPLIANT alerts reach no one. Add subscriptions (root module: sns_subscriptions = [{ protocol = \"email\", endpoint = \"secops@example.com\" }]), or give an existing topic with topic_arn (sns_topic_arn)."
  }
}

################################################################################
# Dead-letter queue
################################################################################

# EventBridge retries a failed delivery (24 hours, 185 attempts by default) and then drops the event;
# permission errors and a missing target are not retried at all. The queue keeps what the topic did not
# take. EventBridge User Guide, "Event retry policy and using dead-letter queues".
resource "aws_sqs_queue" "dead_letter" {
  count = var.create ? 1 : 0

  name                      = local.queue_name
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  # With the topic's key when the module creates it (its policy lets EventBridge use it); with SQS-owned
  # keys, which need no key policy, when alerts go to a topic given by ARN.
  kms_master_key_id       = local.create_topic ? aws_kms_key.this[0].arn : null
  sqs_managed_sse_enabled = local.create_topic ? null : true

  tags = var.tags
}

resource "aws_sqs_queue_policy" "dead_letter" {
  count = var.create ? 1 : 0

  queue_url = aws_sqs_queue.dead_letter[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # EventBridge User Guide, "Granting permissions to the dead-letter queue": the Condition
        # "allows only requests that come from a rule named ..." in this account and Region.
        Sid       = "AllowUndeliveredAlertsFromTheComplianceRule"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = local.queue_arn
        Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = local.queue_arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
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
    # AWS does not document what the managed rules write in the annotation; it is often empty.
    input_template = "\"Unapproved AMI: EC2 instance <instance> in account <account>, region <region>, is NON_COMPLIANT with AWS Config rule <rule> since <time>. Config's annotation: <annotation>\""
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter[0].arn
  }

  depends_on = [aws_sns_topic_policy.this, aws_sqs_queue_policy.dead_letter]
}

################################################################################
# Alarm on failed deliveries
################################################################################

# A broken topic, key or policy shows here: FailedInvocations counts "invocations that failed
# permanently" (EventBridge User Guide, "Monitoring Amazon EventBridge"; valid dimension RuleName).
resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  count = var.create ? 1 : 0

  alarm_name          = "${local.rule_name}-failed-invocations"
  alarm_description   = "EventBridge could not deliver approved-AMI alerts from ${local.rule_name}: check the topic, its key and policies; undelivered events wait in ${local.queue_name}."
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { RuleName = aws_cloudwatch_event_rule.this[0].name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.failed_invocations_alarm_actions

  tags = var.tags
}
