# Basic: launches from this role are allowed only from AMIs tagged Environment = Prod.

provider "aws" {
  region = var.region
}

data "aws_iam_policy_document" "assume_by_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "deployer" {
  name               = "approved-amis-basic-deployer"
  assume_role_policy = data.aws_iam_policy_document.assume_by_ec2.json
}

module "approved_amis" {
  source = "../../" # run from this repository; in your root: the release archive or a git ref (README.md, Usage)

  name = "approved-amis-basic"

  # Only this role may tag images with the approval key.
  ami_publisher_arns = ["arn:aws:iam::*:role/ami-publisher"]

  iam_attach_to_role_names = [aws_iam_role.deployer.name]

  # The IAM layer only: no AWS Config rules, no alerts.
  create_config_rule = false
  create_sns_alerts  = false
}
