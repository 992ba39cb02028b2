# A script asks before it acts: same disk, an instance in its zone.
aliyun ecs AttachDisk --RegionId cn-hangzhou --DiskId d-bp1j2v5k8mwz0xq3rt7c --InstanceId i-bp1d6tsvkinvbbn5b8pf
