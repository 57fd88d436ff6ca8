# Flow logs for one VPC, read by flowd on an EKS cluster:
#
#   terraform init && terraform apply -var vpc_id=vpc-... -var eks_oidc_provider_arn=arn:aws:iam::...
#   terraform output -raw flowd_config > flowd.yaml
#   helm install flowd ../../../helm/flowd --namespace flowd --create-namespace \
#     --set serviceAccount.roleArn="$(terraform output -raw flowd_role_arn)" \
#     --set aws.region=us-east-1 --set-file config=flowd.yaml

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

variable "region" {
  description = "Region of the VPC and the cluster."
  type        = string
  default     = "us-east-1"
}

variable "vpc_id" {
  description = "VPC to record."
  type        = string
}

variable "eks_oidc_provider_arn" {
  description = "IAM OIDC provider of the EKS cluster flowd runs on."
  type        = string
}

provider "aws" {
  region = var.region
}

module "flowd" {
  source = "../.."

  vpc_id                = var.vpc_id
  eks_oidc_provider_arn = var.eks_oidc_provider_arn
  eks_service_account   = "flowd:flowd"
  retention_in_days     = 14

  tags = {
    app = "flowd"
  }
}

output "flowd_role_arn" {
  description = "Set as serviceAccount.roleArn in the Helm chart."
  value       = module.flowd.flowd_role_arn
}

output "flowd_config" {
  description = "flowd.yaml for the chart's config value."
  value       = module.flowd.flowd_config
}
