package vouch.tests.vuln.high_within_sla

import data.vouch.lib
import rego.v1

severity := "high"

label(v) := sprintf("%s in %s on %s", [
	object.get(v.attrs, "vulnerability_id", v.key),
	object.get(v.attrs, "package", "?"),
	object.get(v.attrs, "artifact", "?"),
])

ours(v) if v.attrs.severity == severity

fixed_in_window(v) if {
	not lib.live(v)
	lib.days_since(v.deleted_at) <= input.params.window_days
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s (%s) has been open %v days, past the %v-day SLA", [label(v), severity, floor(lib.days_since(v.first_seen)), input.params.days])} if {
	some v in input.resources.vulnerability
	ours(v)
	lib.live(v)
	lib.days_since(v.first_seen) > input.params.days
}

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s (%s) has been open %v days, within the %v-day SLA", [label(v), severity, floor(lib.days_since(v.first_seen)), input.params.days])} if {
	some v in input.resources.vulnerability
	ours(v)
	lib.live(v)
	lib.days_since(v.first_seen) <= input.params.days
}

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s (%s) was fixed after %v days, within the %v-day SLA", [label(v), severity, floor(lib.days_between(v.first_seen, v.deleted_at)), input.params.days])} if {
	some v in input.resources.vulnerability
	ours(v)
	fixed_in_window(v)
	lib.days_between(v.first_seen, v.deleted_at) <= input.params.days
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s (%s) was fixed after %v days, missing the %v-day SLA", [label(v), severity, floor(lib.days_between(v.first_seen, v.deleted_at)), input.params.days])} if {
	some v in input.resources.vulnerability
	ours(v)
	fixed_in_window(v)
	lib.days_between(v.first_seen, v.deleted_at) > input.params.days
}

results contains {"entity": v.id, "status": "skip", "reason": sprintf("%s was fixed on %s, before the %v-day review window", [label(v), v.deleted_at, input.params.window_days])} if {
	some v in input.resources.vulnerability
	ours(v)
	not lib.live(v)
	lib.days_since(v.deleted_at) > input.params.window_days
}
