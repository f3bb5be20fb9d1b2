# Disabled: create = false switches every layer off, whatever the other inputs say; the plan is empty.

provider "aws" {
  region = var.region
}

module "approved_amis" {
  source = "../../" # run from this repository; in your root: source = "your-org/approved-amis/aws" and version = "<release>"

  create = false

  create_config_recorder = true
  create_sns_alerts      = true
  create_ssm_remediation = true
}
