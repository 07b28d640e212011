package vouch.tests.endpoint.checked_in_recently

import data.vouch.lib
import rego.v1

label(d) := sprintf("%s (%s)", [object.get(d.attrs, "hostname", d.key), d.system])

leaver(d) if {
	is_string(d.attrs.owner)
	some p in input.resources.person
	lower(p.attrs.email) == lower(d.attrs.owner)
	p.attrs.status == "terminated"
}

in_population(d) if {
	lib.live(d)
	not leaver(d)
}

results contains {"entity": d.id, "status": "pass", "reason": sprintf("%s checked in %v days ago", [label(d), floor(lib.days_since(d.attrs.last_seen))])} if {
	some d in input.resources.device
	in_population(d)
	is_string(d.attrs.last_seen)
	lib.days_since(d.attrs.last_seen) <= input.params.days
}

results contains {"entity": d.id, "status": "fail", "reason": sprintf("%s has not checked in for %v days", [label(d), floor(lib.days_since(d.attrs.last_seen))])} if {
	some d in input.resources.device
	in_population(d)
	is_string(d.attrs.last_seen)
	lib.days_since(d.attrs.last_seen) > input.params.days
}

results contains {"entity": d.id, "status": "error", "reason": sprintf("%s does not report when it last checked in", [label(d)])} if {
	some d in input.resources.device
	in_population(d)
	not is_string(d.attrs.last_seen)
}

results contains {"entity": d.id, "status": "skip", "reason": sprintf("%s belongs to %s, who has left; recover it through offboarding", [label(d), d.attrs.owner])} if {
	some d in input.resources.device
	lib.live(d)
	leaver(d)
}
