package vouch.tests.change.vcs_in_use

import data.vouch.lib
import rego.v1

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

systems := {r.system | some r in input.resources.repository}

live_repos(s) := [r |
	some r in input.resources.repository
	r.system == s
	lib.live(r)
	not r.attrs.archived == true
]

pushes(s) := [lib.ts_ns(r.attrs.pushed_at) | some r in live_repos(s); has_date(r.attrs.pushed_at)]

recent(s) := sort([object.get(r.attrs, "full_name", r.key) |
	some r in live_repos(s)
	has_date(r.attrs.pushed_at)
	lib.days_since(r.attrs.pushed_at) <= input.params.days
])

days_idle(s) := floor((lib.now_ns - max(pushes(s))) / lib.day_ns)

verdict(s) := ["skip", sprintf("%s has no repositories left to judge", [s])] if {
	count([r | some r in input.resources.repository; r.system == s; lib.live(r)]) == 0
} else := ["fail", sprintf("%s has only archived repositories", [s])] if {
	count(live_repos(s)) == 0
} else := ["error", sprintf("%s does not report when its repositories were last pushed to", [s])] if {
	count(pushes(s)) == 0
} else := ["pass", sprintf("%s had pushes within %d days to %d repositories: %s", [s, input.params.days, count(recent(s)), concat(", ", recent(s))])] if {
	count(recent(s)) > 0
} else := ["fail", sprintf("%s has had no push to any repository for %d days (limit %d)", [s, days_idle(s), input.params.days])]

results contains {"entity": s, "status": v[0], "reason": v[1]} if {
	some s in systems
	v := verdict(s)
}
