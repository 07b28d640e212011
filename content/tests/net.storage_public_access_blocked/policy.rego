package vouch.tests.net.storage_public_access_blocked

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "s3"
}

label(r) := sprintf("s3 %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.name in input.params.exceptions

skip_reason(_) := "is listed as an intentionally public bucket in the test's parameters"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s blocks all public access", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.public_access_blocked == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s does not block public access", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.public_access_blocked == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.public_access_blocked)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
