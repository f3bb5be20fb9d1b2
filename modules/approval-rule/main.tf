################################################################################
# Approval rule
#
# One definition of "approved AMI", validated once and rendered for every layer:
# the IAM policy, the permissions boundary, the SCP and the AWS Config rule parameters.
################################################################################

locals {
  policy_template = "${path.module}/../../policies/approved-amis.json.tftpl"

  template_vars = {
    partition                    = var.partition
    tag_key                      = var.approval_tag_key
    tag_values                   = var.approval_tag_values
    ami_ids                      = var.approved_ami_ids
    ami_owners                   = var.approved_ami_owners
    publisher_arns               = var.ami_publisher_arns
    exempt_principal_arns        = var.exempt_principal_arns
    launch_resource_types        = ["instance", "volume", "network-interface", "subnet", "security-group", "key-pair", "launch-template"]
    tag_on_launch_resource_types = ["instance", "volume", "network-interface"]
  }

  documents = {
    for mode in ["policy", "boundary", "scp"] :
    mode => trimspace(templatefile(local.policy_template, merge(local.template_vars, { mode = mode })))
  }

  config_rule_parameters = {
    by_tag = jsonencode({
      amisByTagKeyAndValue = join(",", [for value in var.approval_tag_values : "${var.approval_tag_key}:${value}"])
    })
    by_id = length(var.approved_ami_ids) == 0 ? null : jsonencode({
      amiIds = join(",", var.approved_ami_ids)
    })
  }
}
