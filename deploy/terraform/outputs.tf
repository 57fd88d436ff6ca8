output "log_group_name" {
  description = "Name of the flow log group (created, or the existing one with create_flow_log = false)."
  value       = var.create_flow_log ? aws_cloudwatch_log_group.flow_logs["vpc"].name : var.log_group_name
}

output "log_group_arn" {
  description = "ARN of the flow log group, without the \":*\" suffix."
  value       = local.log_group_arn
}

output "flow_log_id" {
  description = "ID of the VPC flow log; null with create_flow_log = false."
  value       = var.create_flow_log ? aws_flow_log.vpc["vpc"].id : null
}

output "delivery_role_arn" {
  description = "ARN of the role VPC Flow Logs uses to write to the log group; null with create_flow_log = false."
  value       = var.create_flow_log ? aws_iam_role.delivery["vpc"].arn : null
}

output "flowd_role_arn" {
  description = "ARN of flowd's role: the serviceAccount.roleArn of the Helm chart, or the ECS task role."
  value       = aws_iam_role.flowd.arn
}

output "log_format" {
  description = "The flow log's record format, in the AWS spelling flowd's config uses."
  value       = var.log_format
}

# flowd.yaml for this flow log: the same log_format the flow log writes with. With
# enable_kinesis it reads the stream the group is subscribed to instead of polling the group:
# both at once would count every record twice.
#   terraform output -raw flowd_config > flowd.yaml
locals {
  flowd_checkpoint = {
    path     = var.checkpoint_path
    interval = "30s"
  }
  # Two documents rather than one with conditional parts: HCL's conditional needs both of its
  # results of one type, and the two configs are objects with different keys.
  flowd_config = var.enable_kinesis ? yamlencode({
    # Every log group the stream carries, in the flow log's format (other accounts' groups
    # through the destination included).
    sources = [{
      kinesis_stream = var.kinesis_stream_name
      lease_table    = var.lease_table_name
      log_format     = var.log_format
    }]
    kinesis = {
      initial_position = var.kinesis_initial_position
    }
    checkpoint = local.flowd_checkpoint
    }) : yamlencode({
    sources = [{
      log_group  = var.log_group_name
      log_format = var.log_format
    }]
    checkpoint = local.flowd_checkpoint
  })
}

output "flowd_config" {
  description = "flowd.yaml reading this flow log group with the flow log's own format (with enable_kinesis: reading the stream it is subscribed to)."
  value       = local.flowd_config
}

output "flowd_config_parameter_arn" {
  description = "ARN of the SSM parameter holding flowd_config (the ECS task's FLOWD_CONFIG secret); null without ecs_config_parameter_name."
  value       = var.ecs_config_parameter_name == null ? null : aws_ssm_parameter.flowd_config[var.ecs_config_parameter_name].arn
}

output "ecs_execution_config_policy_arn" {
  description = "Policy to attach to the ECS task execution role so it can read the config parameter; null without ecs_config_parameter_name."
  value       = var.ecs_config_parameter_name == null ? null : aws_iam_policy.ecs_execution_config[var.ecs_config_parameter_name].arn
}

output "kinesis_stream_arn" {
  description = "ARN of the Kinesis data stream (the source's kinesis_stream may be this ARN or its name); null without enable_kinesis."
  value       = var.enable_kinesis ? aws_kinesis_stream.flow_logs["flow_logs"].arn : null
}

output "kinesis_stream_name" {
  description = "Name of the Kinesis data stream; null without enable_kinesis."
  value       = var.enable_kinesis ? aws_kinesis_stream.flow_logs["flow_logs"].name : null
}

output "lease_table_name" {
  description = "DynamoDB table of the shard leases (the source's lease_table); null without enable_kinesis."
  value       = var.enable_kinesis ? aws_dynamodb_table.leases["flow_logs"].name : null
}

output "lease_table_arn" {
  description = "ARN of the lease table; null without enable_kinesis."
  value       = var.enable_kinesis ? aws_dynamodb_table.leases["flow_logs"].arn : null
}

output "logs_to_kinesis_role_arn" {
  description = "ARN of the role CloudWatch Logs assumes to write into the stream (the subscription filter's and the destination's role_arn); null without enable_kinesis."
  value       = var.enable_kinesis ? aws_iam_role.logs_to_kinesis["flow_logs"].arn : null
}

output "kinesis_destination_arn" {
  description = "ARN of the CloudWatch Logs destination the log groups of kinesis_source_account_ids subscribe to (their subscription filter's destination_arn); null without them."
  value       = length(local.kinesis_destination) > 0 ? aws_cloudwatch_log_destination.flow_logs["flow_logs"].arn : null
}
