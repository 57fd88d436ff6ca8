# flowd's own role: read the flow log group (and, for discovery, list log groups; with
# enable_inventory, describe the account's network; with enable_kinesis, read the stream and
# keep its leases), assumed by flowd's pods on EKS (IRSA) and/or its tasks on ECS. deploy/iam/
# holds the same policies as plain JSON.

locals {
  oidc_issuer = var.eks_oidc_provider_arn == null ? "" : element(split("oidc-provider/", var.eks_oidc_provider_arn), 1)
}

data "aws_iam_policy_document" "flowd_trust" {
  dynamic "statement" {
    for_each = var.eks_oidc_provider_arn == null ? [] : [var.eks_oidc_provider_arn]
    content {
      sid     = "FlowdServiceAccountOnEKS"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [statement.value]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:sub"
        values   = ["system:serviceaccount:${var.eks_service_account}"]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.ecs_tasks ? [local.account_id] : []
    content {
      sid     = "FlowdTasksOnECS"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "Service"
        identifiers = ["ecs-tasks.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [statement.value]
      }

      # Tasks of this account and Region only, as deploy/iam/trust-ecs-tasks.json (the
      # confused-deputy guard AWS recommends for ecs-tasks.amazonaws.com).
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = ["arn:${local.partition}:ecs:${local.region}:${statement.value}:*"]
      }
    }
  }
}

data "aws_iam_policy_document" "flowd" {
  statement {
    sid       = "ReadFlowLogRecords"
    actions   = ["logs:FilterLogEvents"]
    resources = concat(["${local.log_group_arn}:*"], [for arn in var.extra_log_group_arns : "${trimsuffix(arn, ":*")}:*"])
  }

  # Used only by log_group_prefix discovery; DescribeLogGroups cannot be scoped to one group.
  statement {
    sid       = "DiscoverLogGroupsByPrefix"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }

  # The EC2 inventory (discover: flow_logs, inventory.names; docs/inventory.md): read-only
  # Describe actions, which support no resource-level permissions, so "*" is the only resource
  # IAM accepts for them.
  dynamic "statement" {
    for_each = var.enable_inventory ? ["*"] : []
    content {
      sid = "ReadEC2Inventory"
      actions = [
        "ec2:DescribeFlowLogs",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
      ]
      resources = ["*"]
    }
  }

  # The Kinesis source (enable_kinesis; kinesis.tf): read the stream, keep the shard leases.
  # The same statements as deploy/iam/flowd-kinesis-policy.json, less dynamodb:CreateTable: the
  # module creates the table, so flowd's lease.Table.Ensure finds it and never creates one.
  dynamic "statement" {
    for_each = var.enable_kinesis ? [local.kinesis_stream_arn] : []
    content {
      sid       = "ReadFlowLogRecordsFromKinesis"
      actions   = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.enable_kinesis ? [local.lease_table_arn] : []
    content {
      sid       = "KeepKinesisShardLeases"
      actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.cross_account_role_arns) > 0 ? [var.cross_account_role_arns] : []
    content {
      sid       = "ReadFlowLogsInOtherAccounts"
      actions   = ["sts:AssumeRole"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role" "flowd" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.flowd_trust.json
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.eks_oidc_provider_arn != null || var.ecs_tasks
      error_message = "Set eks_oidc_provider_arn (EKS) or ecs_tasks = true (ECS): flowd's role needs someone to trust."
    }
  }
}

resource "aws_iam_role_policy" "flowd" {
  name   = var.name
  role   = aws_iam_role.flowd.id
  policy = data.aws_iam_policy_document.flowd.json
}

# ECS: flowd's config in an SSM parameter, which the task definition passes to flowd as the
# FLOWD_CONFIG secret (flowd run --config.env=FLOWD_CONFIG), and the policy the task execution
# role needs to read it (deploy/iam/ecs-task-execution-config-policy.json).
locals {
  ecs_config = var.ecs_config_parameter_name == null ? toset([]) : toset([var.ecs_config_parameter_name])
}

resource "aws_ssm_parameter" "flowd_config" {
  for_each = local.ecs_config

  name        = each.key
  description = "flowd.yaml for the flowd ECS task (the FLOWD_CONFIG secret)."
  type        = "String"
  value       = local.flowd_config
  tags        = var.tags
}

data "aws_iam_policy_document" "ecs_execution_config" {
  for_each = local.ecs_config

  statement {
    sid       = "ReadFlowdConfigParameter"
    actions   = ["ssm:GetParameters"]
    resources = [aws_ssm_parameter.flowd_config[each.key].arn]
  }
}

resource "aws_iam_policy" "ecs_execution_config" {
  for_each = local.ecs_config

  name        = "${var.name}-ecs-execution-config"
  description = "Lets the flowd ECS task execution role read flowd's config parameter."
  policy      = data.aws_iam_policy_document.ecs_execution_config[each.key].json
  tags        = var.tags
}
