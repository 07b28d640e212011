package vouch.tests.enc.databases_at_rest

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "rds"
}

label(r) := sprintf("rds %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.name in input.params.exceptions

skip_reason(_) := "is listed as an exception in the test's parameters"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s has storage encryption enabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.storage_encrypted == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s stores its data unencrypted", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.storage_encrypted == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.storage_encrypted)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
