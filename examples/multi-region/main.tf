# Several regions: the IAM policy once (IAM is global), AWS Config rules in every region (Config is
# regional), and every region's alerts in one topic. Call the module once per region through a provider
# alias, with the same `name`: each region's rules then carry the same names, so the alerts rule of the
# primary region matches the events the other regions forward to it.
#
# An EventBridge rule targets an SNS topic of its own region only; across regions it targets an event
# bus (EventBridge User Guide, "Sending and receiving events between AWS Regions"). So the secondary
# region forwards its NON_COMPLIANT verdicts to the primary region's default event bus, through a role
# that may put events there, and the module's alerts rule there publishes them to the topic.

provider "aws" {
  region = var.primary_region
}

provider "aws" {
  alias  = "secondary"
  region = var.secondary_region
}

locals {
  name = "approved-amis"
}

module "primary" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  name = local.name

  approval_tag_key         = "Environment"
  approval_tag_values      = ["Prod"]
  iam_attach_to_role_names = ["deployer"]

  sns_subscriptions = [{ protocol = "email", endpoint = "secops@example.com" }]
}

module "secondary" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  providers = {
    aws = aws.secondary
  }

  name = local.name

  approval_tag_key    = "Environment"
  approval_tag_values = ["Prod"]

  create_iam_policy = false # IAM is global: the primary call's policy holds in every region
  create_sns_alerts = false # alerts go to the primary region's topic, below
}

################################################################################
# The secondary region's verdicts, forwarded to the primary region's default event bus
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  primary_bus_arn = "arn:${data.aws_partition.current.partition}:events:${var.primary_region}:${data.aws_caller_identity.current.account_id}:event-bus/default"
}

resource "aws_cloudwatch_event_rule" "forward" {
  provider = aws.secondary

  name        = "${local.name}-non-compliant-to-${var.primary_region}"
  description = "NON_COMPLIANT verdicts of the approved-AMI Config rules, forwarded to ${var.primary_region}."
  event_pattern = jsonencode({
    source        = ["aws.config"]
    "detail-type" = ["Config Rules Compliance Change"]
    detail = {
      configRuleName      = module.secondary.config_rule_names
      newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
    }
  })
}

resource "aws_cloudwatch_event_target" "forward" {
  provider = aws.secondary

  rule     = aws_cloudwatch_event_rule.forward.name
  arn      = local.primary_bus_arn
  role_arn = aws_iam_role.forward.arn
}

# Same account, other region: the role is all the target bus needs (no event bus policy).
resource "aws_iam_role" "forward" {
  name = "${local.name}-forward-${var.secondary_region}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "forward" {
  name = "put-events-to-${var.primary_region}"
  role = aws_iam_role.forward.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PutEventsToThePrimaryRegion"
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = local.primary_bus_arn
    }]
  })
}
