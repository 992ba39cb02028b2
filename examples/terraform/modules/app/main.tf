# Two instances, each with a data disk attached by `count`, and a scratch disk given by id.

variable "zones" {
  default = ["cn-shanghai-e", "cn-shanghai-f"]
}

variable "disk_zones" {
  default = ["cn-shanghai-e", "cn-shanghai-g"]
}

variable "image_id" {
  default = "m-uf6aaaaaaaaaaaaaaaaa"
}

variable "vswitch_ids" {
  default = ["vsw-uf6aaaaaaaaaaaaaaaaaa", "vsw-uf6bbbbbbbbbbbbbbbbbb"]
}

variable "scratch_disk_id" {
  default = ""
}

resource "alicloud_instance" "app" {
  count                = 2
  instance_name        = "app-${count.index + 1}"
  availability_zone    = var.zones[count.index]
  instance_type        = "ecs.g7.large"
  image_id             = var.image_id
  vswitch_id           = var.vswitch_ids[count.index]
  deletion_protection  = true
  http_tokens          = "required"
  tags = {
    owner         = "platform"
    "cost-center" = "cc-100"
  }
}

resource "alicloud_ecs_disk" "data" {
  count                = 2
  zone_id              = var.disk_zones[count.index]
  category             = "cloud_essd"
  size                 = 100
  encrypted            = true
  delete_with_instance = false
  tags = {
    owner = "app"
  }
}

resource "alicloud_ecs_disk_attachment" "data" {
  count       = 2
  disk_id     = alicloud_ecs_disk.data[count.index].id
  instance_id = alicloud_instance.app[count.index].id
}

resource "alicloud_ecs_disk_attachment" "scratch" {
  disk_id     = var.scratch_disk_id
  instance_id = alicloud_instance.app[0].id
}
