package vouch.tests.log.storage_access_logging

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "s3"
}

label(r) := sprintf("s3 %s", [object.get(r.attrs, "name", r.key)])

trail_bucket(name) if {
	some t in input.resources.cloud_resource
	lib.live(t)
	t.attrs.service == "cloudtrail"
	t.attrs.s3_bucket == name
}

out_of_scope(r) if trail_bucket(r.attrs.name)

out_of_scope(r) if r.attrs.name in input.params.log_buckets

skip_reason(r) := "receives CloudTrail logs and is itself a log bucket" if trail_bucket(r.attrs.name)

skip_reason(r) := "is a log bucket named in the test's parameters" if {
	not trail_bucket(r.attrs.name)
	r.attrs.name in input.params.log_buckets
}

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s has server access logging enabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.logging == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s has server access logging disabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.logging == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.logging)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
