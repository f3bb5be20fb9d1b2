# Organization: run from the management account (or the delegated administrator for AWS Config and
# Organizations policies). The service control policy and the EC2 Allowed AMIs declarative policy are
# attached to the workload OUs and accounts; organization Config rules report non-compliant instances in
# every member account but the excluded ones; an aggregator shows compliance in one place.
#
# Prerequisites on the organization (usually managed with aws_organizations_organization):
#   enabled_policy_types          = ["SERVICE_CONTROL_POLICY", "DECLARATIVE_POLICY_EC2"]
#   aws_service_access_principals = ["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]
# and an AWS Config recorder in each member account and region.

provider "aws" {
  region = var.region
}

module "approved_amis_organization" {
  source = "../../modules/organization" # in your root: the release archive or a git ref, with //modules/organization

  name = "approved-amis-org"
  tags = { Project = "approved-amis" }

  approval_tag_key    = "Environment"
  approval_tag_values = ["Prod"]
  approved_ami_ids    = ["ami-0123456789abcdef0"]
  # Amazon's images (ec2:Owner is "amazon" for them): EKS Auto Mode, ECS Managed Instances, Karpenter and
  # Batch launch them through customer roles, which the SCP binds.
  approved_ami_owners   = ["amazon"]
  ami_publisher_arns    = ["arn:aws:iam::*:role/ami-publisher"]
  exempt_principal_arns = ["arn:aws:iam::*:role/break-glass"]
  # Launch templates may take their image from these publisher-owned SSM parameters (resolve:ssm:).
  ami_parameter_paths = ["/golden-ami/*"]

  # Instance tags only publishers and break-glass roles may set: the remediation exemption key of the
  # member accounts' Config remediation.
  protected_instance_tag_keys = ["AmiGuardExempt"]

  # The only principals in member accounts that may create or change the publisher and break-glass roles.
  iam_admin_principal_arns = ["arn:aws:iam::*:role/iam-admin"]

  target_ids = var.target_ids

  create_config_rule               = var.create_config_rule
  config_rule_excluded_account_ids = var.config_rule_excluded_account_ids

  create_allowed_amis_policy = var.create_allowed_amis_policy
  allowed_amis_state         = var.allowed_amis_state
  allowed_amis_criteria = [
    # Golden images from the publisher account, rebuilt at least twice a year.
    { image_providers = [var.ami_publisher_account_id], image_names = ["golden-*"], maximum_days_since_created = 180 },
    # Amazon's own images while they are not deprecated.
    { image_providers = ["amazon"], maximum_days_since_deprecated = 0 },
  ]

  create_aggregator   = var.create_aggregator
  aggregator_role_arn = var.aggregator_role_arn
}
