package vouch.tests.endpoint.disk_encrypted

import data.vouch.lib
import rego.v1

what := "disk encryption"

label(d) := sprintf("%s (%s)", [object.get(d.attrs, "hostname", d.key), d.system])

stale(d) if {
	is_string(d.attrs.last_seen)
	lib.days_since(d.attrs.last_seen) > input.params.stale_days
}

in_population(d) if {
	lib.live(d)
	not stale(d)
}

# The values of every check on the device whose name matches the pattern.
states(d) := [v | some name, v in object.get(d.attrs, "checks", {}); regex.match(input.params.check_pattern, lower(name))]

results contains {"entity": d.id, "status": "fail", "reason": sprintf("%s fails its %s check", [label(d), what])} if {
	some d in input.resources.device
	in_population(d)
	"fail" in states(d)
}

results contains {"entity": d.id, "status": "pass", "reason": sprintf("%s passes its %s check", [label(d), what])} if {
	some d in input.resources.device
	in_population(d)
	count(states(d)) > 0
	every s in states(d) { s == "pass" }
}

results contains {"entity": d.id, "status": "error", "reason": sprintf("%s reports its %s check as unknown", [label(d), what])} if {
	some d in input.resources.device
	in_population(d)
	count(states(d)) > 0
	not "fail" in states(d)
	some s in states(d)
	s != "pass"
}

results contains {"entity": d.id, "status": "error", "reason": sprintf("%s does not report a %s check", [label(d), what])} if {
	some d in input.resources.device
	in_population(d)
	count(states(d)) == 0
}

results contains {"entity": d.id, "status": "skip", "reason": sprintf("%s was last seen %v days ago; endpoint.checked_in_recently covers it", [label(d), floor(lib.days_since(d.attrs.last_seen))])} if {
	some d in input.resources.device
	lib.live(d)
	stale(d)
}
