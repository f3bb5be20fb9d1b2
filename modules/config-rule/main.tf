data "aws_partition" "current" {
  count = local.create_recorder ? 1 : 0
}

data "aws_caller_identity" "current" {
  count = local.create_recorder ? 1 : 0
}

# `id` is the region name under provider 5 and 6 alike: `name` is deprecated in 6, `region` absent in 5.
data "aws_region" "current" {
  count = local.create_bucket ? 1 : 0
}

locals {
  create_recorder = var.create && var.create_recorder
  create_bucket   = local.create_recorder && var.delivery_s3_bucket_name == null

  partition  = try(data.aws_partition.current[0].partition, "aws")
  account_id = try(data.aws_caller_identity.current[0].account_id, "")

  bucket_name = coalesce(var.delivery_s3_bucket_name, "${lower(replace(var.name, "/[^A-Za-z0-9-]/", "-"))}-config-${local.account_id}-${try(data.aws_region.current[0].id, "")}")
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"
}

################################################################################
# Config rules
################################################################################

locals {
  rules = {
    for key, rule in {
      by_tag = {
        identifier  = "APPROVED_AMIS_BY_TAG"
        parameters  = var.approval_rule.config_rule_parameters.by_tag
        description = "EC2 instances must run an AMI carrying an approved value of the tag ${var.approval_rule.rule.tag_key}."
      }
      by_id = {
        identifier  = "APPROVED_AMIS_BY_ID"
        parameters  = var.approval_rule.config_rule_parameters.by_id
        description = "EC2 instances must run one of the approved AMI IDs."
      }
    } : key => rule if var.create && rule.parameters != null
  }
}

resource "aws_config_config_rule" "this" {
  for_each = local.rules

  name             = "${var.name}-${replace(each.key, "_", "-")}"
  description      = each.value.description
  input_parameters = each.value.parameters

  source {
    owner             = "AWS"
    source_identifier = each.value.identifier
  }

  scope {
    compliance_resource_types = ["AWS::EC2::Instance"]
    tag_key                   = var.scope_tag_key
    tag_value                 = var.scope_tag_value
  }

  tags = var.tags

  depends_on = [aws_config_configuration_recorder_status.this]
}

################################################################################
# Configuration recorder
################################################################################

data "aws_iam_policy_document" "recorder_assume" {
  count = local.create_recorder ? 1 : 0

  statement {
    sid     = "AllowConfigToAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "recorder" {
  count = local.create_recorder ? 1 : 0

  name               = "${var.name}-config-recorder"
  description        = "Lets AWS Config record resource configurations and deliver them to S3."
  assume_role_policy = data.aws_iam_policy_document.recorder_assume[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "recorder" {
  count = local.create_recorder ? 1 : 0

  role       = aws_iam_role.recorder[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "recorder_delivery" {
  count = local.create_recorder ? 1 : 0

  statement {
    sid       = "AllowBucketAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "AllowDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/AWSLogs/${local.account_id}/Config/*"]

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
}

resource "aws_iam_role_policy" "recorder" {
  count = local.create_recorder ? 1 : 0

  name   = "config-delivery"
  role   = aws_iam_role.recorder[0].id
  policy = data.aws_iam_policy_document.recorder_delivery[0].json
}

resource "aws_config_configuration_recorder" "this" {
  #checkov:skip=CKV2_AWS_48:Records recorder_resource_types (EC2 instances by default), what the approved-AMI rules evaluate; recording every type is the account's cost decision.
  count = local.create_recorder ? 1 : 0

  name     = var.recorder_name
  role_arn = aws_iam_role.recorder[0].arn

  recording_group {
    all_supported  = false
    resource_types = var.recorder_resource_types
  }
}

resource "aws_config_delivery_channel" "this" {
  count = local.create_recorder ? 1 : 0

  name           = var.recorder_name
  s3_bucket_name = local.bucket_name

  depends_on = [aws_config_configuration_recorder.this, aws_s3_bucket_policy.this]
}

resource "aws_config_configuration_recorder_status" "this" {
  #checkov:skip=CKV2_AWS_45:The recorder records recorder_resource_types (EC2 instances by default), what the approved-AMI rules evaluate; recording every type is the account's cost decision.
  count = local.create_recorder ? 1 : 0

  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

################################################################################
# Delivery bucket
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Config snapshots are written by the Config service only; access logging would need a second bucket per account.
  #checkov:skip=CKV_AWS_144:Config history is re-recorded on demand; cross-region replication is left to the account's backup policy.
  #checkov:skip=CKV2_AWS_62:Nobody consumes events for Config snapshot deliveries.
  #checkov:skip=CKV2_AWS_61:Config snapshots and history are audit records: how long to keep them is the account owner's decision.

  count = local.create_bucket ? 1 : 0

  bucket        = local.bucket_name
  force_destroy = var.delivery_s3_bucket_force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "bucket" {
  count = local.create_bucket ? 1 : 0

  statement {
    sid       = "AllowConfigBucketCheck"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [local.bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "AllowConfigDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/AWSLogs/${local.account_id}/Config/*"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
