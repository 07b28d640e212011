package vouch.tests.log.audit_trail_integrity

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "cloudtrail"
}

label(r) := sprintf("cloudtrail %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.is_logging == false

skip_reason(_) := "is not logging; log.audit_trail_enabled judges stopped trails"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s has log file validation enabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.log_file_validation == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s has log file validation disabled", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.log_file_validation == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.log_file_validation)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
