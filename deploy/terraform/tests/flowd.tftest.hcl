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
