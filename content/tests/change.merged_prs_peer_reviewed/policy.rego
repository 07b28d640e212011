package vouch.tests.change.merged_prs_peer_reviewed

import data.vouch.lib
import rego.v1

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

label(pr) := sprintf("%s#%v", [pr.attrs.repository, pr.attrs.number]) if pr.attrs.number != null
else := pr.key

# The default branch of the pull request's repository, when the repository is known.
default_branch(pr) := sort(branches)[0] if {
	branches := {b |
		some r in input.resources.repository
		lib.live(r)
		object.get(r.attrs, "full_name", r.key) == pr.attrs.repository
		b := r.attrs.default_branch
		is_string(b)
	}
	count(branches) > 0
}

into_default(pr) if pr.attrs.base == default_branch(pr)

into_default(pr) if not default_branch(pr)

approvers(pr) := sort({rv.reviewer |
	some rv in pr.attrs.reviews
	rv.state == "APPROVED"
	is_string(rv.reviewer)
	lower(rv.reviewer) != lower(pr.attrs.author)
	has_date(rv.submitted_at)
	lib.ts_ns(rv.submitted_at) <= lib.ts_ns(pr.attrs.merged_at)
})

late_approvers(pr) := sort({rv.reviewer |
	some rv in pr.attrs.reviews
	rv.state == "APPROVED"
	is_string(rv.reviewer)
	lower(rv.reviewer) != lower(pr.attrs.author)
})

verdict(pr) := ["skip", sprintf("%s was not merged", [label(pr)])] if {
	not pr.attrs.merged == true
} else := ["error", sprintf("%s is merged but has no merge time", [label(pr)])] if {
	not has_date(pr.attrs.merged_at)
} else := ["skip", sprintf("%s was merged before the %d-day window", [label(pr), input.params.window_days])] if {
	lib.days_since(pr.attrs.merged_at) > input.params.window_days
} else := ["skip", sprintf("%s was merged into %s, not the default branch %s", [label(pr), pr.attrs.base, default_branch(pr)])] if {
	not into_default(pr)
} else := ["error", sprintf("the reviews of %s were not collected", [label(pr)])] if {
	not is_array(pr.attrs.reviews)
} else := ["error", sprintf("the reviews of %s were not collected", [label(pr)])] if {
	pr.attrs.reviewed == null
} else := ["error", sprintf("%s does not name its author", [label(pr)])] if {
	not is_string(pr.attrs.author)
} else := ["pass", sprintf("%s by %s was approved by %s before it was merged", [label(pr), pr.attrs.author, concat(", ", approvers(pr))])] if {
	count(approvers(pr)) > 0
} else := ["fail", sprintf("%s by %s was approved by %s only after it was merged", [label(pr), pr.attrs.author, concat(", ", late_approvers(pr))])] if {
	count(late_approvers(pr)) > 0
} else := ["fail", sprintf("%s by %s was merged by %s without an approval from anyone else", [label(pr), pr.attrs.author, object.get(pr.attrs, "merged_by", "someone")])]

results contains {"entity": pr.id, "status": v[0], "reason": v[1]} if {
	some pr in input.resources.pull_request
	v := verdict(pr)
}
