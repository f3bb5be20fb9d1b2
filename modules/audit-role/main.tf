################################################################################
# Trust: who may run the audit
################################################################################

locals {
  trust_condition = var.external_id == null ? {} : { StringEquals = { "sts:ExternalId" = var.external_id } }

  trust_policy = {
    Version = "2012-10-17"
    Statement = [merge(
      {
        Sid       = "ApprovedAmisAuditor"
        Effect    = "Allow"
        Principal = { AWS = var.trusted_principal_arns }
        Action    = "sts:AssumeRole"
      },
      length(local.trust_condition) > 0 ? { Condition = local.trust_condition } : {},
    )]
  }

  # Exactly the calls `approved-amis audit` makes in an account: instances, launch template versions,
  # spot requests, spot fleets and EC2 fleets, Auto Scaling groups and launch configurations, the images
  # they use, the region's Allowed AMIs settings, and (--regions all) the regions.
  # None of these actions supports resource-level permissions: the resource is "*".
  audit_actions = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeLaunchConfigurations",
    "ec2:DescribeFleets",
    "ec2:DescribeImages",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeRegions",
    "ec2:DescribeSpotFleetRequests",
    "ec2:DescribeSpotInstanceRequests",
    "ec2:GetAllowedImagesSettings",
  ]

  audit_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ApprovedAmisAudit"
      Effect   = "Allow"
      Action   = local.audit_actions
      Resource = "*"
    }]
  }
}

################################################################################
# Role
################################################################################

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = var.role_name
  description          = "Read-only: lets approved-amis audit list the AMIs this account launches from."
  assume_role_policy   = jsonencode(local.trust_policy)
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "approved-amis-audit"
  role   = aws_iam_role.this[0].id
  policy = jsonencode(local.audit_policy)
}
