data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

################################################################################
# Approval rule
################################################################################

module "approval_rule" {
  source = "../approval-rule"

  approval_tag_key      = var.approval_tag_key
  approval_tag_values   = var.approval_tag_values
  approved_ami_ids      = var.approved_ami_ids
  approved_ami_owners   = var.approved_ami_owners
  ami_publisher_arns    = var.ami_publisher_arns
  exempt_principal_arns = var.exempt_principal_arns
  partition             = local.partition

  iam_admin_principal_arns               = var.iam_admin_principal_arns
  deny_unpinned_launch_template_versions = var.deny_unpinned_launch_template_versions
  launch_configurations                  = var.launch_configurations
  restrict_image_builder_to_publishers   = var.restrict_image_builder_to_publishers
  ami_parameter_paths                    = var.ami_parameter_paths

  restrict_data_lifecycle_manager_to_publishers = var.restrict_data_lifecycle_manager_to_publishers
  protect_principal_roles                       = var.protect_principal_roles
}

locals {
  partition = try(data.aws_partition.current[0].partition, "aws")

  create_scp                 = var.create && var.create_scp
  create_allowed_amis_policy = var.create && var.create_allowed_amis_policy
  create_config_rule         = var.create && var.create_config_rule
  create_aggregator          = var.create && var.create_aggregator
  create_aggregator_role     = local.create_aggregator && var.aggregator_role_arn == null

  scp_target_ids                 = coalesce(var.scp_target_ids, var.target_ids)
  allowed_amis_policy_target_ids = coalesce(var.allowed_amis_policy_target_ids, var.target_ids)

  # AWS Organizations limits, in characters of content (whitespace counts; jsonencode adds none).
  scp_max_characters                = 5120
  declarative_policy_max_characters = 10000
  scp_characters                    = module.approval_rule.characters.scp
  scp_largest                       = max(values(local.scp_characters)...)

  # AWS Config's limit for a rule's input_parameters, checked on the parameters the rules below receive.
  config_rule_parameters_max_characters = 1024
}

################################################################################
# Service control policy
################################################################################

# Two policies, launch and approval: one cannot hold every Deny statement within 5,120 characters. Both count
# toward the five SCPs a root, OU or account may have attached (FullAWSAccess included).
resource "aws_organizations_policy" "scp" {
  for_each = local.create_scp ? module.approval_rule.scp_policy_jsons : {}

  name        = "${var.name}-${each.key}"
  description = "${var.scp_description} (${each.key})"
  type        = "SERVICE_CONTROL_POLICY"
  content     = each.value

  tags = var.tags
}

resource "aws_organizations_policy_attachment" "scp" {
  for_each = {
    for pair in setproduct(keys(aws_organizations_policy.scp), var.attach_scp ? local.scp_target_ids : []) :
    "${pair[0]}/${pair[1]}" => { policy_id = aws_organizations_policy.scp[pair[0]].id, target_id = pair[1] }
  }

  policy_id = each.value.policy_id
  target_id = each.value.target_id
}

# One SCP became two (launch, approval): the former policy holds the launch statements' name no longer.
moved {
  from = aws_organizations_policy.scp[0]
  to   = aws_organizations_policy.scp["launch"]
}

################################################################################
# Organization Config rules
################################################################################

locals {
  # The same parameters the single-account rules use, rendered once by the approval-rule module.
  config_rules = {
    for key, rule in {
      by_tag = { identifier = "APPROVED_AMIS_BY_TAG", parameters = module.approval_rule.config_rule_parameters.by_tag, description = "EC2 instances must run from AMIs carrying the approval tag." }
      by_id  = { identifier = "APPROVED_AMIS_BY_ID", parameters = module.approval_rule.config_rule_parameters.by_id, description = "EC2 instances must run from the approved AMI IDs." }
    } : key => rule if rule.parameters != null
  }
  config_rule_parameters_characters = max([for rule in values(local.config_rules) : length(rule.parameters)]...)
}

resource "aws_config_organization_managed_rule" "this" {
  for_each = local.create_config_rule ? local.config_rules : {}

  name             = "${var.name}-${replace(each.key, "_", "-")}"
  description      = each.value.description
  rule_identifier  = each.value.identifier
  input_parameters = each.value.parameters

  resource_types_scope = ["AWS::EC2::Instance"]
  excluded_accounts    = var.config_rule_excluded_account_ids
}

# The rules were keyed by-tag and by-id before the key became the approval rule's (by_tag, by_id).
moved {
  from = aws_config_organization_managed_rule.this["by-tag"]
  to   = aws_config_organization_managed_rule.this["by_tag"]
}

moved {
  from = aws_config_organization_managed_rule.this["by-id"]
  to   = aws_config_organization_managed_rule.this["by_id"]
}

################################################################################
# EC2 Allowed AMIs (declarative policy)
################################################################################

locals {
  # Declarative policies spell the provider aliases with underscores (aws_marketplace, aws_backup_vault).
  allowed_image_provider_aliases = { "aws-marketplace" = "aws_marketplace", "aws-backup-vault" = "aws_backup_vault" }

  allowed_amis_policy_json = jsonencode({
    ec2_attributes = {
      allowed_images_settings = {
        state = { "@@assign" = var.allowed_amis_state }
        image_criteria = {
          for index, criterion in var.allowed_amis_criteria : "criteria_${index + 1}" => merge(
            length(criterion.image_providers) == 0 ? {} : {
              allowed_image_providers = { "@@assign" = [for provider in criterion.image_providers : lookup(local.allowed_image_provider_aliases, provider, provider)] }
            },
            length(criterion.image_names) == 0 ? {} : { image_names = { "@@assign" = criterion.image_names } },
            length(criterion.marketplace_product_codes) == 0 ? {} : { marketplace_product_codes = { "@@assign" = criterion.marketplace_product_codes } },
            criterion.maximum_days_since_created == null ? {} : {
              creation_date_condition = { maximum_days_since_created = { "@@assign" = criterion.maximum_days_since_created } }
            },
            criterion.maximum_days_since_deprecated == null ? {} : {
              deprecation_time_condition = { maximum_days_since_deprecated = { "@@assign" = criterion.maximum_days_since_deprecated } }
            },
          )
        }
      }
    }
  })
}

resource "aws_organizations_policy" "allowed_amis" {
  count = local.create_allowed_amis_policy ? 1 : 0

  name        = "${var.name}-allowed-amis"
  description = var.allowed_amis_policy_description
  type        = "DECLARATIVE_POLICY_EC2"
  content     = local.allowed_amis_policy_json

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.allowed_amis_policy_json) <= local.declarative_policy_max_characters
      error_message = "The EC2 Allowed AMIs declarative policy is ${length(local.allowed_amis_policy_json)} characters, over the ${local.declarative_policy_max_characters} AWS Organizations allows: use fewer allowed_amis_criteria entries, image names or providers (wildcards in image_names help)."
    }
  }
}

resource "aws_organizations_policy_attachment" "allowed_amis" {
  for_each = toset(local.create_allowed_amis_policy && var.attach_allowed_amis_policy ? local.allowed_amis_policy_target_ids : [])

  policy_id = aws_organizations_policy.allowed_amis[0].id
  target_id = each.value
}

################################################################################
# Config aggregator
################################################################################

data "aws_iam_policy_document" "aggregator_assume" {
  count = local.create_aggregator_role ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "aggregator" {
  count = local.create_aggregator_role ? 1 : 0

  name               = "${var.name}-config-aggregator"
  description        = "Lets AWS Config read the organization's accounts for the ${var.name} compliance aggregator."
  assume_role_policy = data.aws_iam_policy_document.aggregator_assume[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "aggregator" {
  count = local.create_aggregator_role ? 1 : 0

  role       = aws_iam_role.aggregator[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
}

resource "aws_config_configuration_aggregator" "this" {
  count = local.create_aggregator ? 1 : 0

  name = var.name

  organization_aggregation_source {
    role_arn    = coalesce(var.aggregator_role_arn, try(aws_iam_role.aggregator[0].arn, null))
    all_regions = length(var.aggregator_regions) == 0
    regions     = length(var.aggregator_regions) == 0 ? null : var.aggregator_regions
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.aggregator]
}
