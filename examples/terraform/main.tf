# The configuration `plan.json` was planned from: resources in cn-hangzhou (the default
# provider) and the module `app` in cn-shanghai (the provider alias `sh`).

variable "sh_region" {
  default = "cn-shanghai"
}

provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "sh"
  region = var.sh_region
}

data "alicloud_images" "ubuntu" {
  name_regex = "^ubuntu_22"
  owners     = "system"
}

resource "alicloud_vswitch" "web" {
  vpc_id     = "vpc-bp11ueb2e2l4qdp7wvnj9"
  cidr_block = "172.16.1.0/24"
  zone_id    = "cn-hangzhou-h"
}

resource "alicloud_instance" "web" {
  instance_name        = "web-1"
  availability_zone    = "cn-hangzhou-h"
  instance_type        = "ecs.g7.large"
  image_id             = data.alicloud_images.ubuntu.images[0].id
  security_groups      = [alicloud_security_group.web.id]
  vswitch_id           = alicloud_vswitch.web.id
  instance_charge_type = "PrePaid"
  deletion_protection  = true
  http_tokens          = "required"
  key_name             = alicloud_ecs_key_pair.deploy.key_pair_name
}

resource "alicloud_security_group" "web" {
  security_group_name = "web"
  vpc_id              = "vpc-bp11ueb2e2l4qdp7wvnj9"
}

resource "alicloud_security_group_rule" "ssh_anywhere" {
  type              = "ingress"
  ip_protocol       = "tcp"
  port_range        = "22/22"
  cidr_ip           = "0.0.0.0/0"
  policy            = "accept"
  priority          = 1
  security_group_id = alicloud_security_group.web.id
}

resource "alicloud_ecs_key_pair" "deploy" {
  key_pair_name = "deploy"
}

resource "alicloud_image_copy" "app" {
  provider        = alicloud.sh
  image_name      = "app-v42"
  source_image_id = "m-bp1hd5yd3z8vfr0wq1ae"
  source_region_id = "cn-hangzhou"
}

module "app" {
  source = "./modules/app"
  providers = {
    alicloud = alicloud.sh
  }
}
