package vouch.tests.access.access_reviews_current

import data.vouch.lib
import rego.v1

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

reviews(s) := [r |
	some r in input.resources.access_review
	lib.live(r)
	r.attrs.system == s
]

dated(s) := [r | some r in reviews(s); has_date(r.attrs.completed_at)]

systems := {a.system | some a in input.resources.account; lib.live(a)} | {r.attrs.system |
	some r in input.resources.access_review
	lib.live(r)
	is_string(r.attrs.system)
}

latest_ns(s) := max([lib.ts_ns(r.attrs.completed_at) | some r in dated(s)])

latest(s) := [r | some r in dated(s); lib.ts_ns(r.attrs.completed_at) == latest_ns(s)][0]

age(s) := floor((lib.now_ns - latest_ns(s)) / lib.day_ns)

open_revocations(s) := object.get(latest(s).attrs, "revocations_open", 0)

verdict(s) := ["skip", sprintf("%s is excluded from access reviews in the test settings", [s])] if {
	s in input.params.exempt_systems
} else := ["fail", sprintf("%s has accounts but no recorded access review", [s])] if {
	count(reviews(s)) == 0
} else := ["error", sprintf("the access reviews of %s have no completion date", [s])] if {
	count(dated(s)) == 0
} else := ["fail", sprintf("the latest access review of %s was completed %d days ago (limit %d)", [s, age(s), input.params.max_age_days])] if {
	age(s) > input.params.max_age_days
} else := ["fail", sprintf("the access review of %s completed %d days ago still has %v revocations open (limit %d days)", [s, age(s), open_revocations(s), input.params.revocation_days])] if {
	is_number(open_revocations(s))
	open_revocations(s) > 0
	age(s) > input.params.revocation_days
} else := ["pass", sprintf("%s was reviewed %d days ago by %s", [s, age(s), object.get(latest(s).attrs, "reviewer", "an unnamed reviewer")])]

results contains {"entity": s, "status": v[0], "reason": v[1]} if {
	some s in systems
	v := verdict(s)
}
