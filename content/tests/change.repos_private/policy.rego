package vouch.tests.change.repos_private

import data.vouch.lib
import rego.v1

repo_name(r) := r.attrs.full_name if is_string(r.attrs.full_name)
else := r.key

visibility(r) := r.attrs.visibility if is_string(r.attrs.visibility)
else := "private" if r.attrs.private == true
else := "public" if r.attrs.private == false

verdict(r) := ["skip", sprintf("%s no longer exists", [repo_name(r)])] if {
	not lib.live(r)
} else := ["skip", sprintf("%s is a fork, not the company's own code", [repo_name(r)])] if {
	r.attrs.fork == true
} else := ["error", sprintf("github does not report the visibility of %s", [repo_name(r)])] if {
	not visibility(r)
} else := ["pass", sprintf("%s is %s", [repo_name(r), visibility(r)])] if {
	visibility(r) != "public"
} else := ["pass", sprintf("%s is public, as the settings allow", [repo_name(r)])] if {
	repo_name(r) in input.params.allowed_public
} else := ["fail", sprintf("%s is public and not on the list of allowed public repositories", [repo_name(r)])]

results contains {"entity": r.id, "status": v[0], "reason": v[1]} if {
	some r in input.resources.repository
	v := verdict(r)
}
