package vouch.tests.change.secret_scanning_enabled

import data.vouch.lib
import rego.v1

repo_name(r) := r.attrs.full_name if is_string(r.attrs.full_name)
else := r.key

verdict(r) := ["skip", sprintf("%s no longer exists", [repo_name(r)])] if {
	not lib.live(r)
} else := ["skip", sprintf("%s is archived and read-only", [repo_name(r)])] if {
	r.attrs.archived == true
} else := ["skip", sprintf("%s is a fork, not a repository the company ships from", [repo_name(r)])] if {
	r.attrs.fork == true
} else := ["error", sprintf("github does not report whether secret scanning is on for %s", [repo_name(r)])] if {
	not r.attrs.secret_scanning in {"enabled", "disabled"}
} else := ["fail", sprintf("%s has secret scanning turned off", [repo_name(r)])] if {
	r.attrs.secret_scanning == "disabled"
} else := ["fail", sprintf("%s has secret scanning but no push protection", [repo_name(r)])] if {
	input.params.require_push_protection == true
	not r.attrs.secret_scanning_push_protection == "enabled"
} else := ["pass", sprintf("%s has secret scanning turned on", [repo_name(r)])]

results contains {"entity": r.id, "status": v[0], "reason": v[1]} if {
	some r in input.resources.repository
	v := verdict(r)
}
