package vouch.tests.backup.object_versioning

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "s3"
}

label(r) := sprintf("s3 %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.name in input.params.exceptions

skip_reason(_) := "is listed as rebuildable in the test's parameters"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s has versioning enabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.versioning == "Enabled"
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report the versioning state for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not has_versioning_key(r)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}

has_versioning_key(r) if "versioning" in object.keys(r.attrs)

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s has versioning suspended", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.versioning == "Suspended"
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s never had versioning enabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	has_versioning_key(r)
	r.attrs.versioning == null
}
