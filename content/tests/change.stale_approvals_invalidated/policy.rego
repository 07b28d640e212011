package vouch.tests.change.stale_approvals_invalidated

import data.vouch.lib
import rego.v1

repo_name(r) := r.attrs.full_name if is_string(r.attrs.full_name)
else := r.key

# The live protection record of the repository's default branch, if it is protected.
protections(r) := [b |
	some b in input.resources.branch_protection
	lib.live(b)
	b.attrs.repository == repo_name(r)
	b.attrs.branch == r.attrs.default_branch
	b.attrs.protected == true
]

branch(r) := sprintf("%s:%s", [repo_name(r), r.attrs.default_branch])

verdict(r) := ["skip", sprintf("%s no longer exists", [repo_name(r)])] if {
	not lib.live(r)
} else := ["skip", sprintf("%s is archived and read-only", [repo_name(r)])] if {
	r.attrs.archived == true
} else := ["skip", sprintf("%s is a fork, not a repository the company ships from", [repo_name(r)])] if {
	r.attrs.fork == true
} else := ["error", sprintf("github does not report the default branch of %s", [repo_name(r)])] if {
	not is_string(r.attrs.default_branch)
} else := ["fail", sprintf("%s has no branch protection on its default branch", [branch(r)])] if {
	count(protections(r)) == 0
} else := judge(r, protections(r)[0])

results contains {"entity": r.id, "status": v[0], "reason": v[1]} if {
	some r in input.resources.repository
	v := verdict(r)
}

judge(r, b) := ["pass", sprintf("%s dismisses approvals when new commits are pushed", [branch(r)])] if {
	b.attrs.dismiss_stale_reviews == true
} else := ["pass", sprintf("%s requires the last push to be approved", [branch(r)])] if {
	b.attrs.require_last_push_approval == true
} else := ["fail", sprintf("%s keeps approvals after new commits are pushed", [branch(r)])] if {
	b.attrs.dismiss_stale_reviews == false
	b.attrs.require_last_push_approval == false
} else := ["error", sprintf("github does not report whether %s dismisses stale approvals", [branch(r)])]
