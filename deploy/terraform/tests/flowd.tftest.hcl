# terraform test with a mocked AWS provider: no credentials, no AWS calls. Run from
# deploy/terraform after `terraform init` (scripts/ci.d/70-packaging.sh does both when a
# terraform binary and a provider mirror are on the machine).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  # The provider validates the policies it is given: the mocked documents must be JSON. The
  # tests read each document's statements (its inputs), which the mock leaves as written.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc/flow-logs"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mocked"
    }
  }
  mock_resource "aws_kinesis_stream" {
    defaults = {
      arn = "arn:aws:kinesis:us-east-1:111122223333:stream/flowd-flow-logs"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:111122223333:table/flowd-leases"
    }
  }
  mock_resource "aws_cloudwatch_log_destination" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:111122223333:destination:flowd-flow-logs"
    }
  }
  mock_resource "aws_ssm_parameter" {
    defaults = {
      arn = "arn:aws:ssm:us-east-1:111122223333:parameter/flowd/config"
    }
  }
}

variables {
  vpc_id = "vpc-0123456789abcdef0"
}

# The usual set-up: log group, delivery role and flow log, with the one log format on both sides.
run "new_setup" {
  command = plan

  variables {
    ecs_tasks = true
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.flow_logs) == 1 && length(aws_iam_role.delivery) == 1 && length(aws_flow_log.vpc) == 1
    error_message = "the new set-up must create the log group, the delivery role and the flow log"
  }
  assert {
    condition     = aws_flow_log.vpc["vpc"].log_format == var.log_format && aws_flow_log.vpc["vpc"].max_aggregation_interval == 60
    error_message = "the flow log must use var.log_format and one-minute aggregation"
  }
  assert {
    condition     = yamldecode(output.flowd_config).sources[0].log_format == var.log_format && yamldecode(output.flowd_config).sources[0].log_group == "/aws/vpc/flow-logs"
    error_message = "flowd_config must read the flow log group with the flow log's format"
  }
  assert {
    condition     = output.log_group_arn == "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc/flow-logs"
    error_message = "log_group_arn is ${output.log_group_arn}"
  }
  # The ECS trust is limited to this account's tasks in this Region, as deploy/iam/trust-ecs-tasks.json.
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.flowd_trust.statement : anytrue([
      for c in st.condition : c.variable == "aws:SourceArn" && c.test == "ArnLike" && contains(c.values, "arn:aws:ecs:us-east-1:111122223333:*")
    ])])
    error_message = "the ECS trust statement lacks the aws:SourceArn condition on arn:aws:ecs:us-east-1:111122223333:*"
  }
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.flowd_trust.statement : anytrue([
      for c in st.condition : c.variable == "aws:SourceAccount" && contains(c.values, "111122223333")
    ])])
    error_message = "the ECS trust statement lacks the aws:SourceAccount condition"
  }
  assert {
    condition     = length(aws_ssm_parameter.flowd_config) == 0 && output.flowd_config_parameter_arn == null
    error_message = "no SSM parameter without ecs_config_parameter_name"
  }
}

# The seed's set-up: the flow log and its group exist. Only flowd's role and policy.
run "existing_flow_log" {
  command = apply

  variables {
    create_flow_log = false
    vpc_id          = null
    log_group_name  = "/aws/vpc/existing"
    ecs_tasks       = true
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.flow_logs) == 0 && length(aws_iam_role.delivery) == 0 && length(aws_iam_role_policy.delivery) == 0 && length(aws_flow_log.vpc) == 0
    error_message = "with create_flow_log = false the module must not create a log group, a delivery role or a flow log"
  }
  assert {
    condition     = aws_iam_role.flowd.name == "flowd" && aws_iam_role_policy.flowd.role == aws_iam_role.flowd.id
    error_message = "flowd's role and policy must still be created"
  }
  assert {
    condition = contains(flatten([for st in data.aws_iam_policy_document.flowd.statement : st.resources if contains(st.actions, "logs:FilterLogEvents")]),
    "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc/existing:*")
    error_message = "flowd's policy must let it read the existing group"
  }
  assert {
    condition     = output.flow_log_id == null && output.delivery_role_arn == null && output.log_group_name == "/aws/vpc/existing"
    error_message = "outputs of an existing set-up: no flow log, no delivery role, the existing group"
  }
  assert {
    condition     = yamldecode(output.flowd_config).sources[0].log_group == "/aws/vpc/existing"
    error_message = "flowd_config must read the existing group"
  }
}

run "new_setup_needs_a_vpc" {
  command = plan

  variables {
    vpc_id    = null
    ecs_tasks = true
  }

  expect_failures = [aws_cloudwatch_log_group.flow_logs]
}

run "role_needs_a_trust" {
  command = plan

  expect_failures = [aws_iam_role.flowd]
}

# ECS without a config sidecar: the rendered config in an SSM parameter and the execution-role
# policy that reads exactly it.
run "ecs_config_parameter" {
  command = apply

  variables {
    ecs_tasks                 = true
    ecs_config_parameter_name = "/flowd/config"
  }

  assert {
    condition     = aws_ssm_parameter.flowd_config["/flowd/config"].value == output.flowd_config && aws_ssm_parameter.flowd_config["/flowd/config"].type == "String"
    error_message = "the parameter must hold flowd_config"
  }
  assert {
    condition     = data.aws_iam_policy_document.ecs_execution_config["/flowd/config"].statement[0].actions == toset(["ssm:GetParameters"]) && data.aws_iam_policy_document.ecs_execution_config["/flowd/config"].statement[0].resources == toset([output.flowd_config_parameter_arn])
    error_message = "the execution-role policy must grant ssm:GetParameters on the parameter alone"
  }
  assert {
    condition     = output.flowd_config_parameter_arn == "arn:aws:ssm:us-east-1:111122223333:parameter/flowd/config"
    error_message = "flowd_config_parameter_arn is ${output.flowd_config_parameter_arn}"
  }
}

# The EC2 inventory's statement: on by default, the five Describe actions on "*" alone (they
# support no resource-level permissions), and no other statement on "*".
run "inventory_statement" {
  command = plan

  variables {
    ecs_tasks = true
  }

  assert {
    condition = length([for st in data.aws_iam_policy_document.flowd.statement : st if st.sid == "ReadEC2Inventory"]) == 1 && alltrue([
      for st in data.aws_iam_policy_document.flowd.statement : st.resources == toset(["*"]) && st.actions == toset(["ec2:DescribeFlowLogs", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]) if st.sid == "ReadEC2Inventory"
    ])
    error_message = "flowd's policy must have one ReadEC2Inventory statement: the five EC2 Describe actions on \"*\""
  }
  assert {
    condition     = alltrue([for st in data.aws_iam_policy_document.flowd.statement : !contains(st.resources, "*") if st.sid != "ReadEC2Inventory"])
    error_message = "only the ReadEC2Inventory statement may have the resource \"*\""
  }
}

run "inventory_disabled" {
  command = plan

  variables {
    ecs_tasks        = true
    enable_inventory = false
  }

  assert {
    condition     = length([for st in data.aws_iam_policy_document.flowd.statement : st if anytrue([for a in st.actions : startswith(a, "ec2:")])]) == 0
    error_message = "enable_inventory = false must leave every EC2 action out of flowd's policy"
  }
}

# The Kinesis source is off by default: none of its resources, no statement on a stream or a
# table, and flowd_config polls the group.
run "kinesis_disabled" {
  command = plan

  variables {
    ecs_tasks = true
  }

  assert {
    condition     = length(aws_kinesis_stream.flow_logs) == 0 && length(aws_dynamodb_table.leases) == 0 && length(aws_iam_role.logs_to_kinesis) == 0 && length(aws_cloudwatch_log_subscription_filter.flow_logs) == 0 && length(aws_cloudwatch_log_destination.flow_logs) == 0
    error_message = "enable_kinesis = false must create no stream, table, role, subscription filter or destination"
  }
  assert {
    condition     = length([for st in data.aws_iam_policy_document.flowd.statement : st if anytrue([for a in st.actions : startswith(a, "kinesis:") || startswith(a, "dynamodb:")])]) == 0
    error_message = "enable_kinesis = false must leave the kinesis and dynamodb actions out of flowd's policy"
  }
  assert {
    condition     = output.kinesis_stream_arn == null && output.lease_table_name == null && output.kinesis_destination_arn == null && !can(yamldecode(output.flowd_config).sources[0].kinesis_stream)
    error_message = "without enable_kinesis: no Kinesis outputs, and flowd_config polls the group"
  }
}

# The Kinesis source in one account: a provisioned stream, the lease table as internal/lease
# creates it, the flow log group subscribed by log stream with a role only CloudWatch Logs of
# this account may assume, and flowd's statements on exactly the stream and the table.
run "kinesis_enabled" {
  command = apply

  variables {
    ecs_tasks           = true
    enable_kinesis      = true
    kinesis_shard_count = 4
  }

  assert {
    condition     = aws_kinesis_stream.flow_logs["flow_logs"].name == "flowd-flow-logs" && aws_kinesis_stream.flow_logs["flow_logs"].shard_count == 4 && aws_kinesis_stream.flow_logs["flow_logs"].stream_mode_details[0].stream_mode == "PROVISIONED" && aws_kinesis_stream.flow_logs["flow_logs"].encryption_type == "KMS"
    error_message = "the stream must be provisioned with kinesis_shard_count shards and encrypted"
  }
  assert {
    condition     = aws_dynamodb_table.leases["flow_logs"].name == "flowd-leases" && aws_dynamodb_table.leases["flow_logs"].hash_key == "leaseKey" && aws_dynamodb_table.leases["flow_logs"].billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.leases["flow_logs"].range_key == null
    error_message = "the lease table must have the hash key leaseKey, no range key, on-demand billing"
  }
  assert {
    condition     = [for a in aws_dynamodb_table.leases["flow_logs"].attribute : "${a.name}:${a.type}"] == ["leaseKey:S"]
    error_message = "the lease table's one attribute definition must be leaseKey of type S"
  }
  assert {
    condition     = aws_cloudwatch_log_subscription_filter.flow_logs["flow_logs"].log_group_name == "/aws/vpc/flow-logs" && aws_cloudwatch_log_subscription_filter.flow_logs["flow_logs"].destination_arn == "arn:aws:kinesis:us-east-1:111122223333:stream/flowd-flow-logs" && aws_cloudwatch_log_subscription_filter.flow_logs["flow_logs"].distribution == "ByLogStream" && aws_cloudwatch_log_subscription_filter.flow_logs["flow_logs"].filter_pattern == ""
    error_message = "the flow log group must be subscribed, every event, by log stream, into the stream"
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.logs_to_kinesis_trust["flow_logs"].statement : alltrue([
      for p in st.principals : p.type == "Service" && p.identifiers == toset(["logs.us-east-1.amazonaws.com"])
      ]) && anytrue([
      for c in st.condition : c.test == "StringLike" && c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:logs:us-east-1:111122223333:*"])
    ])])
    error_message = "the role CloudWatch Logs assumes must trust logs.us-east-1.amazonaws.com for this account's aws:SourceArn only"
  }
  assert {
    condition     = data.aws_iam_policy_document.logs_to_kinesis["flow_logs"].statement[0].actions == toset(["kinesis:PutRecord"]) && data.aws_iam_policy_document.logs_to_kinesis["flow_logs"].statement[0].resources == toset(["arn:aws:kinesis:us-east-1:111122223333:stream/flowd-flow-logs"])
    error_message = "CloudWatch Logs' role must grant kinesis:PutRecord on the stream alone"
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.flowd.statement : st.resources == toset(["arn:aws:kinesis:us-east-1:111122223333:stream/flowd-flow-logs"]) && st.actions == toset(["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]) if st.sid == "ReadFlowLogRecordsFromKinesis"]) && alltrue([
      for st in data.aws_iam_policy_document.flowd.statement : st.resources == toset(["arn:aws:dynamodb:us-east-1:111122223333:table/flowd-leases"]) && st.actions == toset(["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]) if st.sid == "KeepKinesisShardLeases"
    ]) && length([for st in data.aws_iam_policy_document.flowd.statement : st if contains(["ReadFlowLogRecordsFromKinesis", "KeepKinesisShardLeases"], st.sid)]) == 2
    error_message = "flowd's policy must read the stream and keep the leases on exactly their ARNs"
  }
  assert {
    condition     = output.kinesis_stream_arn == aws_kinesis_stream.flow_logs["flow_logs"].arn && output.lease_table_name == "flowd-leases" && output.kinesis_destination_arn == null && length(aws_cloudwatch_log_destination.flow_logs) == 0
    error_message = "outputs of the Kinesis source without source accounts: the stream and the table, no destination"
  }
  assert {
    condition     = yamldecode(output.flowd_config).sources[0].kinesis_stream == "flowd-flow-logs" && yamldecode(output.flowd_config).sources[0].lease_table == "flowd-leases" && yamldecode(output.flowd_config).kinesis.initial_position == "trim_horizon" && yamldecode(output.flowd_config).sources[0].log_format == var.log_format && length(yamldecode(output.flowd_config).sources) == 1
    error_message = "flowd_config must read the stream (and not also poll the group, which would count every record twice)"
  }
}

# An organization: an on-demand stream fed by other accounts through a destination, which only
# those accounts may subscribe to, and which the role trusts CloudWatch Logs of those accounts for.
run "kinesis_destination_for_other_accounts" {
  command = apply

  variables {
    ecs_tasks                  = true
    enable_kinesis             = true
    kinesis_stream_mode        = "ON_DEMAND"
    kinesis_source_account_ids = ["444455556666", "777788889999"]
  }

  assert {
    condition     = aws_kinesis_stream.flow_logs["flow_logs"].shard_count == null && aws_kinesis_stream.flow_logs["flow_logs"].stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "an on-demand stream has no shard count"
  }
  assert {
    condition     = aws_cloudwatch_log_destination.flow_logs["flow_logs"].target_arn == "arn:aws:kinesis:us-east-1:111122223333:stream/flowd-flow-logs" && output.kinesis_destination_arn == "arn:aws:logs:us-east-1:111122223333:destination:flowd-flow-logs"
    error_message = "the destination must forward into the stream"
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.destination_access["flow_logs"].statement : st.actions == toset(["logs:PutSubscriptionFilter"]) && st.resources == toset([output.kinesis_destination_arn]) && alltrue([
      for p in st.principals : p.type == "AWS" && p.identifiers == toset(["444455556666", "777788889999"])
    ])])
    error_message = "only the source accounts may subscribe to the destination, and only to it"
  }
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.logs_to_kinesis_trust["flow_logs"].statement : anytrue([
      for c in st.condition : c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:logs:us-east-1:111122223333:*", "arn:aws:logs:us-east-1:444455556666:*", "arn:aws:logs:us-east-1:777788889999:*"])
    ])])
    error_message = "the role must trust CloudWatch Logs of this account and of each source account"
  }
}

run "kinesis_stream_mode_is_checked" {
  command = plan

  variables {
    ecs_tasks           = true
    enable_kinesis      = true
    kinesis_stream_mode = "PROVISIONED_PLUS"
  }

  expect_failures = [var.kinesis_stream_mode]
}
