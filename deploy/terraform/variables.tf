variable "name" {
  description = "Prefix of the names of the IAM roles and policies this module creates."
  type        = string
  default     = "flowd"
}

variable "create_flow_log" {
  description = "Create the log group, the delivery role and the flow log. Set false when they already exist: the module then creates only flowd's role and policy, reading log_group_name (and extra_log_group_arns), and the flow log's format must be log_format."
  type        = bool
  default     = true
}

variable "vpc_id" {
  description = "ID of the VPC whose traffic the flow log records; required with create_flow_log = true."
  type        = string
  default     = null
}

variable "log_group_name" {
  description = "Name of the CloudWatch Logs log group the flow log writes to and flowd reads (created, or the existing one with create_flow_log = false)."
  type        = string
  default     = "/aws/vpc/flow-logs"
}

variable "retention_in_days" {
  description = "Days CloudWatch Logs keeps the records. flowd only needs the last hour; keep more for investigations."
  type        = number
  default     = 14
}

variable "kms_key_id" {
  description = "ARN of a KMS key to encrypt the log group with, or null for the service's default encryption."
  type        = string
  default     = null
}

variable "traffic_type" {
  description = "Traffic the flow log records: ACCEPT, REJECT or ALL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.traffic_type)
    error_message = "traffic_type must be ACCEPT, REJECT or ALL."
  }
}

# The one format string for both sides: the flow log writes records in this format and the
# flowd config rendered in outputs.tf reads them with it, so the two cannot drift. In HCL each
# "$" of the AWS spelling "${field}" is written "$$" (here and in .tfvars files); the value the
# variable holds is the AWS spelling, which is what both the flow log and flowd receive.
variable "log_format" {
  description = "Flow log record format, in the AWS spelling (each $ doubled in HCL). flowd's config gets the same value."
  type        = string
  default     = "$${version} $${account-id} $${interface-id} $${srcaddr} $${dstaddr} $${srcport} $${dstport} $${protocol} $${packets} $${bytes} $${start} $${end} $${action} $${log-status} $${vpc-id} $${subnet-id} $${instance-id} $${tcp-flags} $${type} $${pkt-srcaddr} $${pkt-dstaddr} $${flow-direction} $${traffic-path}"
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider; set it to let flowd's service account assume flowd's role (IRSA)."
  type        = string
  default     = null
}

variable "eks_service_account" {
  description = "Namespace and name (namespace:name) of flowd's Kubernetes service account."
  type        = string
  default     = "flowd:flowd"
}

variable "ecs_tasks" {
  description = "Let ECS tasks of this account assume flowd's role (set it as the task role)."
  type        = bool
  default     = false
}

variable "ecs_config_parameter_name" {
  description = "Name of an SSM parameter (e.g. /flowd/config) to create holding flowd_config, for the ECS task's FLOWD_CONFIG secret, with a policy for the task execution role to read it. null creates neither."
  type        = string
  default     = null
}

variable "extra_log_group_arns" {
  description = "ARNs of other log groups (same account) flowd may read, e.g. other VPCs' flow logs."
  type        = list(string)
  default     = []
}

variable "enable_inventory" {
  description = "Grant flowd's role the read-only EC2 Describe actions of the inventory (discover: flow_logs sources, inventory.names; docs/inventory.md) on Resource \"*\". false leaves them out: flowd then logs the refused actions and keeps counting."
  type        = bool
  default     = true
}

variable "enable_kinesis" {
  description = "Create the Kinesis source's resources (kinesis.tf): the stream, the lease table, the role and subscription filter that feed the flow log group into the stream, flowd's statements on both, and with kinesis_source_account_ids a destination for other accounts. flowd_config then reads the stream instead of polling the group."
  type        = bool
  default     = false
}

variable "kinesis_stream_name" {
  description = "Name of the Kinesis data stream (enable_kinesis)."
  type        = string
  default     = "flowd-flow-logs"
}

variable "kinesis_stream_mode" {
  description = "PROVISIONED (kinesis_shard_count shards, billed per shard-hour) or ON_DEMAND (scales by itself, billed per GB and stream-hour)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.kinesis_stream_mode)
    error_message = "kinesis_stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "kinesis_shard_count" {
  description = "Shards of a PROVISIONED stream: each takes 1 MB/s of compressed subscription records. Run at most as many flowd replicas as shards (a replica without a shard only waits)."
  type        = number
  default     = 1

  validation {
    condition     = var.kinesis_shard_count >= 1 && floor(var.kinesis_shard_count) == var.kinesis_shard_count
    error_message = "kinesis_shard_count must be a whole number of at least 1."
  }
}

variable "kinesis_retention_hours" {
  description = "Hours the stream keeps records (24 to 8760; more than 24 costs extra). flowd must catch up within it after an outage."
  type        = number
  default     = 24

  validation {
    condition     = var.kinesis_retention_hours >= 24 && var.kinesis_retention_hours <= 8760
    error_message = "kinesis_retention_hours must be between 24 and 8760."
  }
}

variable "kinesis_subscribe_log_group" {
  description = "Subscribe log_group_name (this account's flow log group) to the stream. false when only other accounts' groups feed it (kinesis_source_account_ids). A log group takes at most two subscription filters."
  type        = bool
  default     = true
}

variable "kinesis_filter_pattern" {
  description = "CloudWatch Logs filter pattern of the subscription; \"\" sends every record (flowd counts what it is sent)."
  type        = string
  default     = ""
}

variable "kinesis_source_account_ids" {
  description = "Other accounts (same Region) whose flow log groups may subscribe to the stream through a CloudWatch Logs destination in this account (output kinesis_destination_arn). Empty creates no destination."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.kinesis_source_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "kinesis_source_account_ids must be 12-digit AWS account ids."
  }
}

variable "lease_table_name" {
  description = "DynamoDB table of the Kinesis source's shard leases (the source's lease_table; flowd-leases by default)."
  type        = string
  default     = "flowd-leases"
}

variable "kinesis_initial_position" {
  description = "flowd_config's kinesis.initial_position: where a shard that has no lease yet is read from, trim_horizon (the oldest retained record) or latest."
  type        = string
  default     = "trim_horizon"

  validation {
    condition     = contains(["trim_horizon", "latest"], var.kinesis_initial_position)
    error_message = "kinesis_initial_position must be trim_horizon or latest."
  }
}

variable "cross_account_role_arns" {
  description = "Reader roles in other accounts that flowd assumes for sources with role_arn."
  type        = list(string)
  default     = []
}

variable "checkpoint_path" {
  description = "Checkpoint file in the rendered flowd config: on the volume mounted at /var/lib/flowd."
  type        = string
  default     = "/var/lib/flowd/checkpoint"
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
