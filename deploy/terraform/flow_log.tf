# The usual set-up: a log group, a role the VPC Flow Logs service assumes to write to it, and a
# flow log with a custom format.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = var.log_group_name
  retention_in_days = var.retention_in_days
  kms_key_id        = var.kms_key_id
  tags              = var.tags
}

# Only the VPC Flow Logs service of this account may assume the delivery role (the source
# conditions close the confused-deputy hole).
data "aws_iam_policy_document" "delivery_trust" {
  statement {
    sid     = "VPCFlowLogsDelivery"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc-flow-log/*"]
    }
  }
}

data "aws_iam_policy_document" "delivery" {
  statement {
    sid = "DeliverFlowLogsToCloudWatchLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role" "delivery" {
  name               = "${var.name}-flow-logs-delivery"
  assume_role_policy = data.aws_iam_policy_document.delivery_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "delivery" {
  name   = "${var.name}-flow-logs-delivery"
  role   = aws_iam_role.delivery.id
  policy = data.aws_iam_policy_document.delivery.json
}

resource "aws_flow_log" "vpc" {
  vpc_id               = var.vpc_id
  traffic_type         = var.traffic_type
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.delivery.arn
  log_format           = var.log_format
  # One-minute records: flowd's windows and alerts assume them (the default, 600, delays
  # records by up to ten minutes).
  max_aggregation_interval = 60
  tags                     = var.tags
}
