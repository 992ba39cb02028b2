# A script asks before it acts: same disk, an instance in its zone.
aliyun ecs AttachDisk --RegionId cn-hangzhou --DiskId d-bp1bxncy9h7foyc8eeed --InstanceId i-bp1us31ietd42pe50vjm
