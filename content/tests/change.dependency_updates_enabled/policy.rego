package vouch.tests.change.dependency_updates_enabled

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
} else := ["pass", sprintf("%s has Dependabot security updates turned on", [repo_name(r)])] if {
	r.attrs.dependabot_security_updates == "enabled"
} else := ["fail", sprintf("%s has Dependabot security updates turned off", [repo_name(r)])] if {
	r.attrs.dependabot_security_updates == "disabled"
} else := ["error", sprintf("github does not report whether Dependabot security updates are on for %s", [repo_name(r)])]

results contains {"entity": r.id, "status": v[0], "reason": v[1]} if {
	some r in input.resources.repository
	v := verdict(r)
}
