package vouch.tests.enc.kms_key_rotation

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "kms"
}

label(r) := sprintf("kms %s", [object.get(r.attrs, "key_id", r.key)])

out_of_scope(r) if r.attrs.enabled == false

out_of_scope(r) if {
	is_string(r.attrs.key_state)
	r.attrs.key_state != "Enabled"
}

skip_reason(r) := sprintf("is not in use (state %v)", [object.get(r.attrs, "key_state", "unknown")])

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s rotates automatically", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.rotation_enabled == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s does not rotate automatically", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.rotation_enabled == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.rotation_enabled)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
