package vouch.tests.people.background_check_completed

import data.vouch.lib
import rego.v1

label(p) := sprintf("%s (%s)", [object.get(p.attrs, "name", p.key), object.get(p.attrs, "email", p.key)])

email(p) := lower(object.get(p.attrs, "email", p.key))

checks(p) := [c |
	some c in input.resources.background_check
	lower(object.get(c.attrs, "person", "")) == email(p)
]

cleared_in_time(p) if {
	some c in checks(p)
	c.attrs.status == "clear"
	is_string(c.attrs.completed_at)
	lib.days_between(p.attrs.start_date, c.attrs.completed_at) <= input.params.grace_days
}

cleared_late(p) if {
	not cleared_in_time(p)
	some c in checks(p)
	c.attrs.status == "clear"
	is_string(c.attrs.completed_at)
}

in_window(p) if {
	lib.live(p)
	is_string(p.attrs.start_date)
	lib.days_since(p.attrs.start_date) <= input.params.window_days
	lib.days_since(p.attrs.start_date) >= 0
}

open_grace(p) if lib.days_since(p.attrs.start_date) <= input.params.grace_days

results contains {"entity": p.id, "status": "pass", "reason": sprintf("%s has a clear background check from before the start date %s (or within the grace days)", [label(p), p.attrs.start_date])} if {
	some p in input.resources.person
	in_window(p)
	cleared_in_time(p)
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s started on %s but the background check cleared more than %v days later", [label(p), p.attrs.start_date, input.params.grace_days])} if {
	some p in input.resources.person
	in_window(p)
	cleared_late(p)
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s started on %s and has no clear background check", [label(p), p.attrs.start_date])} if {
	some p in input.resources.person
	in_window(p)
	not cleared_in_time(p)
	not cleared_late(p)
	not open_grace(p)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s started on %s and is within the %v grace days for the check", [label(p), p.attrs.start_date, input.params.grace_days])} if {
	some p in input.resources.person
	in_window(p)
	not cleared_in_time(p)
	not cleared_late(p)
	open_grace(p)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s started on %s, outside the %v-day review window", [label(p), p.attrs.start_date, input.params.window_days])} if {
	some p in input.resources.person
	lib.live(p)
	is_string(p.attrs.start_date)
	not in_window(p)
}

results contains {"entity": p.id, "status": "error", "reason": sprintf("%s has no start date in the HR system", [label(p)])} if {
	some p in input.resources.person
	lib.live(p)
	not is_string(p.attrs.start_date)
}
