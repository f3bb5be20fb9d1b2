# Detect only: AWS Config rules and alerts, no IAM policy and no remediation, for an account that
# wants to see which instances run unapproved AMIs before enforcing anything. Uses the account's
# existing configuration recorder.

provider "aws" {
  region = var.region
}

module "approved_amis" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  name = "approved-amis-detect"

  create_iam_policy = false

  create_config_rule = true
  create_sns_alerts  = true
  sns_subscriptions  = [{ protocol = "email", endpoint = "secops@example.com" }]
}
