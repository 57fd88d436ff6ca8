# The usual set-up: a log group, a role the VPC Flow Logs service assumes to write to it, and a
# flow log with a custom format. With create_flow_log = false none of it is created: the flow
# log and its group already exist (var.log_group_name names the group) and the module makes
# only flowd's role and policy (flowd_iam.tf).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # id, not name: name is deprecated in AWS provider 6 and region does not exist in 5; id is the
  # Region's name in both.
  region = data.aws_region.current.id
  # The group's ARN, without the ":*" the API appends: the same whether the module creates the
  # group or it already exists, and known at plan time.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.log_group_name}"
  flow_log      = var.create_flow_log ? toset(["vpc"]) : toset([])
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  for_each = local.flow_log

  name              = var.log_group_name
  retention_in_days = var.retention_in_days
  kms_key_id        = var.kms_key_id
  tags              = var.tags

  lifecycle {
    precondition {
      condition     = var.vpc_id != null
      error_message = "Set vpc_id (the VPC to record), or create_flow_log = false if the flow log already exists."
    }
  }
}

# Only the VPC Flow Logs service of this account may assume the delivery role (the source
# conditions close the confused-deputy hole).
data "aws_iam_policy_document" "delivery_trust" {
  for_each = local.flow_log

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
  for_each = local.flow_log

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
      local.log_group_arn,
      "${local.log_group_arn}:*",
    ]
  }
}

resource "aws_iam_role" "delivery" {
  for_each = local.flow_log

  name               = "${var.name}-flow-logs-delivery"
  assume_role_policy = data.aws_iam_policy_document.delivery_trust[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "delivery" {
  for_each = local.flow_log

  name   = "${var.name}-flow-logs-delivery"
  role   = aws_iam_role.delivery[each.key].id
  policy = data.aws_iam_policy_document.delivery[each.key].json
}

resource "aws_flow_log" "vpc" {
  for_each = local.flow_log

  vpc_id               = var.vpc_id
  traffic_type         = var.traffic_type
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[each.key].arn
  iam_role_arn         = aws_iam_role.delivery[each.key].arn
  log_format           = var.log_format
  # One-minute records: flowd's windows and alerts assume them (the default, 600, delays
  # records by up to ten minutes).
  max_aggregation_interval = 60
  tags                     = var.tags
}
