# The Kinesis source (enable_kinesis = true): CloudWatch Logs pushes the flow log group's events
# through a subscription filter into a Kinesis data stream, and several flowd replicas share the
# stream's shards through leases in a DynamoDB table (docs/operations.md, "The Kinesis source").
# Created here: the stream, the lease table, the role CloudWatch Logs assumes to write into the
# stream, the subscription filter of var.log_group_name, and, for other accounts' log groups
# (kinesis_source_account_ids), a CloudWatch Logs destination they subscribe to. flowd's own
# statements on the stream and the table are in flowd_iam.tf.

locals {
  kinesis = var.enable_kinesis ? toset(["flow_logs"]) : toset([])
  # The subscription filter of this account's flow log group (the log group must exist: created
  # by the module, or the existing one with create_flow_log = false).
  kinesis_subscription = var.enable_kinesis && var.kinesis_subscribe_log_group ? toset(["flow_logs"]) : toset([])
  # The destination other accounts' log groups subscribe to, only when there are such accounts.
  kinesis_destination = var.enable_kinesis && length(var.kinesis_source_account_ids) > 0 ? toset(["flow_logs"]) : toset([])
  # Known at plan time, like local.log_group_arn, so that flowd's policy needs no apply first.
  kinesis_stream_arn = "arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${var.kinesis_stream_name}"
  lease_table_arn    = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.lease_table_name}"
}

resource "aws_kinesis_stream" "flow_logs" {
  for_each = local.kinesis

  name             = var.kinesis_stream_name
  retention_period = var.kinesis_retention_hours
  # Provisioned: one shard takes 1 MB/s (1,000 records/s) of subscription records; on demand
  # scales by itself and has no shard count.
  shard_count = var.kinesis_stream_mode == "PROVISIONED" ? var.kinesis_shard_count : null

  stream_mode_details {
    stream_mode = var.kinesis_stream_mode
  }

  # Server-side encryption with the AWS managed key, which needs no KMS permission of the writer
  # (CloudWatch Logs) or the reader (flowd). A customer managed key would need kms:Decrypt in
  # flowd's role and kms:GenerateDataKey in the writer's: not done by this module.
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"

  tags = var.tags
}

# The lease table as internal/lease creates it when it is missing (lease.Table.Ensure): hash key
# leaseKey of type S, on-demand billing. Created here, flowd finds it (DescribeTable) and never
# calls CreateTable, so flowd's policy from this module does not grant it. Losing the table loses
# every shard's position: flowd would start over at the source's initial_position.
resource "aws_dynamodb_table" "leases" {
  for_each = local.kinesis

  name         = var.lease_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "leaseKey"

  attribute {
    name = "leaseKey"
    type = "S"
  }

  tags = var.tags
}

# Only CloudWatch Logs, writing for this account's log groups or those of
# kinesis_source_account_ids (through the destination), may assume the role: the aws:SourceArn
# condition is the confused-deputy guard AWS documents for subscription filters.
data "aws_iam_policy_document" "logs_to_kinesis_trust" {
  for_each = local.kinesis

  statement {
    sid     = "CloudWatchLogsSubscriptionDelivery"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = [for account in concat([local.account_id], var.kinesis_source_account_ids) : "arn:${local.partition}:logs:${local.region}:${account}:*"]
    }
  }
}

data "aws_iam_policy_document" "logs_to_kinesis" {
  for_each = local.kinesis

  statement {
    sid       = "PutSubscriptionRecords"
    actions   = ["kinesis:PutRecord"]
    resources = [aws_kinesis_stream.flow_logs[each.key].arn]
  }
}

resource "aws_iam_role" "logs_to_kinesis" {
  for_each = local.kinesis

  name               = "${var.name}-logs-to-kinesis"
  assume_role_policy = data.aws_iam_policy_document.logs_to_kinesis_trust[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "logs_to_kinesis" {
  for_each = local.kinesis

  name   = "${var.name}-logs-to-kinesis"
  role   = aws_iam_role.logs_to_kinesis[each.key].id
  policy = data.aws_iam_policy_document.logs_to_kinesis[each.key].json
}

resource "aws_cloudwatch_log_subscription_filter" "flow_logs" {
  for_each = local.kinesis_subscription

  name            = "${var.name}-kinesis"
  log_group_name  = var.create_flow_log ? aws_cloudwatch_log_group.flow_logs["vpc"].name : var.log_group_name
  filter_pattern  = var.kinesis_filter_pattern
  destination_arn = aws_kinesis_stream.flow_logs[each.key].arn
  role_arn        = aws_iam_role.logs_to_kinesis[each.key].arn
  # One log stream's events always go to the same shard, so a redelivery lands on the shard (and
  # the replica) that already dropped its event ids (flowd's dedup is per shard); Random would
  # spread a stream's events, and its retries, over every shard.
  distribution = "ByLogStream"

  # The role must be able to write before CloudWatch Logs tests the destination.
  depends_on = [aws_iam_role_policy.logs_to_kinesis]
}

# For an organization: flow log groups of other accounts (same Region) subscribe to this
# destination, which forwards into the stream with the role above. In each source account:
#   aws logs put-subscription-filter --log-group-name <group> --filter-name flowd-kinesis \
#     --filter-pattern "" --destination-arn <kinesis_destination_arn>
resource "aws_cloudwatch_log_destination" "flow_logs" {
  for_each = local.kinesis_destination

  name       = "${var.name}-flow-logs"
  role_arn   = aws_iam_role.logs_to_kinesis[each.key].arn
  target_arn = aws_kinesis_stream.flow_logs[each.key].arn
  tags       = var.tags

  depends_on = [aws_iam_role_policy.logs_to_kinesis]
}

data "aws_iam_policy_document" "destination_access" {
  for_each = local.kinesis_destination

  statement {
    sid     = "SubscribeFromSourceAccounts"
    actions = ["logs:PutSubscriptionFilter"]

    principals {
      type        = "AWS"
      identifiers = var.kinesis_source_account_ids
    }

    resources = [aws_cloudwatch_log_destination.flow_logs[each.key].arn]
  }
}

resource "aws_cloudwatch_log_destination_policy" "flow_logs" {
  for_each = local.kinesis_destination

  destination_name = aws_cloudwatch_log_destination.flow_logs[each.key].name
  access_policy    = data.aws_iam_policy_document.destination_access[each.key].json
}
