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
