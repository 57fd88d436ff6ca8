output "log_group_name" {
  description = "Name of the flow log group."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "log_group_arn" {
  description = "ARN of the flow log group."
  value       = aws_cloudwatch_log_group.flow_logs.arn
}

output "flow_log_id" {
  description = "ID of the VPC flow log."
  value       = aws_flow_log.vpc.id
}

output "delivery_role_arn" {
  description = "ARN of the role VPC Flow Logs uses to write to the log group."
  value       = aws_iam_role.delivery.arn
}

output "flowd_role_arn" {
  description = "ARN of flowd's role: the serviceAccount.roleArn of the Helm chart, or the ECS task role."
  value       = aws_iam_role.flowd.arn
}

output "log_format" {
  description = "The flow log's record format, in the AWS spelling flowd's config uses."
  value       = var.log_format
}

# flowd.yaml for this flow log: the same log_format the flow log writes with.
#   terraform output -raw flowd_config > flowd.yaml
output "flowd_config" {
  description = "flowd.yaml reading this flow log group with the flow log's own format."
  value = yamlencode({
    sources = [{
      log_group  = aws_cloudwatch_log_group.flow_logs.name
      log_format = var.log_format
    }]
    checkpoint = {
      path     = var.checkpoint_path
      interval = "30s"
    }
  })
}
