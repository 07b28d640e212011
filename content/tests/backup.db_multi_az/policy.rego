package vouch.tests.backup.db_multi_az

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "rds"
}

label(r) := sprintf("rds %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if not production(r)

production(r) if {
	is_string(r.attrs.name)
	regex.match(input.params.production_pattern, lower(r.attrs.name))
}

skip_reason(_) := "is not a production database (its name does not match the production pattern)"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s is deployed across multiple availability zones", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.multi_az == true
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s runs in a single availability zone", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.multi_az == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.multi_az)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}
