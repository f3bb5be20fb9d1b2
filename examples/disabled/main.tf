# Disabled: create = false switches every layer off, whatever the other inputs say; the plan is empty.

provider "aws" {
  region = var.region
}

module "approved_amis" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  create = false

  create_config_recorder = true
  create_sns_alerts      = true
  create_ssm_remediation = true
}
