# The bundled ECS location rules (policies/alicloud/ecs-locations.policy) in Rego, over
# the same normalized snapshot: each rule is a set of the failing outcomes, and `fails`
# counts them. Indexes are objects built once per evaluation, as an OPA user writes them.
package ecs_locations

import rego.v1

# Complete rules built by comprehensions: evaluated once per query and cached. (Partial
# rules keyed by kind are re-evaluated per lookup by some engines.)
kind_instances := [r | some r in input.resources; r.kind == "instance"]

kind_disks := [r | some r in input.resources; r.kind == "disk"]

kind_enis := [r | some r in input.resources; r.kind == "eni"]

kind_groups := [r | some r in input.resources; r.kind == "security_group"]

kind_snapshots := [r | some r in input.resources; r.kind == "snapshot"]

kind_attachments := [r | some r in input.resources; r.kind == "ram_role_attachment"]

kind_images := [r | some r in input.resources; r.kind == "image"]

kind_key_pairs := [r | some r in input.resources; r.kind == "key_pair"]

zone_region := {zone: region | some region, zones in input.locations; some zone in zones}

instances := {r.id: r | some r in kind_instances}

disks := {r.id: r | some r in kind_disks}

groups := {r.id: r | some r in kind_groups}

image_regions := {id: {[r.region, r.visibility] | some r in kind_images; r.id == id} |
	some img in kind_images
	id := img.id
}

key_regions := {name: {r.region | some r in kind_key_pairs; r.name == name} |
	some kp in kind_key_pairs
	name := kp.name
}

instance_zone contains inst.id if {
	some inst in kind_instances
	not zone_ok(inst)
}

zone_ok(inst) if zone_region[inst.zone] == inst.region

image_region contains inst.id if {
	some inst in kind_instances
	candidates := image_regions[inst.image_id]
	every c in candidates {
		c[0] != inst.region
		c[1] != "public"
	}
}

instance_security_group_region contains [inst.id, sg] if {
	some inst in kind_instances
	some sg in inst.security_group_ids
	groups[sg].region != inst.region
}

key_pair_region contains inst.id if {
	some inst in kind_instances
	regions := key_regions[inst.key_pair_name]
	not inst.region in regions
}

disk_targets(disk) := {t | some t in array.concat([object.get(disk, "instance_id", "")], [a.instance_id | some a in disk.attachments]); t != ""}

disk_zone contains [disk.id, iid] if {
	some disk in kind_disks
	some iid in disk_targets(disk)
	instances[iid].zone != disk.zone
}

snapshot_region contains snap.id if {
	some snap in kind_snapshots
	disks[snap.source_disk_id].region != snap.region
}

eni_security_group_region contains [eni.id, sg] if {
	some eni in kind_enis
	some sg in eni.security_group_ids
	groups[sg].region != eni.region
}

eni_region contains eni.id if {
	some eni in kind_enis
	instances[eni.instance_id].region != eni.region
}

security_group_rule_region contains [sg.id, peer] if {
	some sg in kind_groups
	some rule in sg.rules
	some field in ["source_group_id", "dest_group_id"]
	peer := rule[field]
	groups[peer].region != sg.region
}

ram_role_region contains [att.ram_role_name, att.instance_id] if {
	some att in kind_attachments
	instances[att.instance_id].region != att.region
}

id_formats := {
	"instance": `^i-[a-z0-9]{20}$`,
	"disk": `^d-[a-z0-9]{20}$`,
	"eni": `^eni-[a-z0-9]{20}$`,
	"security_group": `^sg-[a-z0-9]{20}$`,
	"image": `^m-[a-z0-9]{20}$`,
	"snapshot": `^s-[a-z0-9]{20}$`,
}

kinds_with_ids := {
	"instance": kind_instances,
	"disk": kind_disks,
	"eni": kind_enis,
	"security_group": kind_groups,
	"image": kind_images,
	"snapshot": kind_snapshots,
}

resource_id_format contains [kind, r.id] if {
	some kind, pattern in id_formats
	some r in kinds_with_ids[kind]
	not object.get(r, "image_owner_alias", "") == "system"
	not regex.match(pattern, r.id)
}

# Every rule but the regex one: some bindings compile a pattern on every call.
fails_without_regex := {
	"instance_zone": count(instance_zone),
	"image_region": count(image_region),
	"disk_zone": count(disk_zone),
	"snapshot_region": count(snapshot_region),
	"instance_security_group_region": count(instance_security_group_region),
	"eni_security_group_region": count(eni_security_group_region),
	"security_group_rule_region": count(security_group_rule_region),
	"key_pair_region": count(key_pair_region),
	"ram_role_region": count(ram_role_region),
	"eni_region": count(eni_region),
}

fails := object.union(fails_without_regex, {"resource_id_format": count(resource_id_format)})
