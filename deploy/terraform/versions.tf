terraform {
  required_version = ">= 1.5.0"

  # AWS provider 5 and 6: the module uses no attribute either deprecates (data.aws_region's id,
  # not its name). CI runs terraform test against the newest 5.x in its provider mirror.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
