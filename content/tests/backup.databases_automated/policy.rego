package vouch.tests.backup.databases_automated

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "rds"
}

label(r) := sprintf("rds %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.name in input.params.exceptions

skip_reason(_) := "is listed as an exception in the test's parameters"

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report the backup retention for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_number(r.attrs.backup_retention_days)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s keeps automated backups for %v days", [label(r), r.attrs.backup_retention_days])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	is_number(r.attrs.backup_retention_days)
	r.attrs.backup_retention_days >= input.params.min_days
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s keeps automated backups for only %v days (at least %v required)", [label(r), r.attrs.backup_retention_days, input.params.min_days])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	is_number(r.attrs.backup_retention_days)
	r.attrs.backup_retention_days > 0
	r.attrs.backup_retention_days < input.params.min_days
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s has automated backups disabled (retention 0 days)", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.backup_retention_days == 0
	input.params.min_days > 0
}
