package vouch.tests.vuln.prowler_findings_resolved

import data.vouch.lib
import rego.v1

label(f) := sprintf("Prowler check '%s' on %s", [object.get(f.attrs, "title", f.key), object.get(f.attrs, "resource_uid", "?")])

prowler(f) if {
	f.system == "prowler"
	lib.live(f)
}

in_scope(f) if {
	prowler(f)
	is_string(f.attrs.severity)
	lower(f.attrs.severity) in {lower(s) | some s in input.params.severities}
}

muted(f) if f.attrs.muted == true

results contains {"entity": f.id, "status": "pass", "reason": sprintf("%s passes", [label(f)])} if {
	some f in input.resources.finding
	in_scope(f)
	f.attrs.status == "PASS"
}

results contains {"entity": f.id, "status": "fail", "reason": sprintf("%s has failed for %v days (severity %s)", [label(f), floor(lib.days_since(f.first_seen)), f.attrs.severity])} if {
	some f in input.resources.finding
	in_scope(f)
	f.attrs.status == "FAIL"
	not muted(f)
	lib.days_since(f.first_seen) > input.params.grace_days
}

results contains {"entity": f.id, "status": "skip", "reason": sprintf("%s started failing %v days ago and is within the %v-day grace period", [label(f), floor(lib.days_since(f.first_seen)), input.params.grace_days])} if {
	some f in input.resources.finding
	in_scope(f)
	f.attrs.status == "FAIL"
	not muted(f)
	lib.days_since(f.first_seen) <= input.params.grace_days
}

results contains {"entity": f.id, "status": "skip", "reason": sprintf("%s fails but is muted as an accepted exception", [label(f)])} if {
	some f in input.resources.finding
	in_scope(f)
	f.attrs.status == "FAIL"
	muted(f)
}

results contains {"entity": f.id, "status": "skip", "reason": sprintf("%s is a manual check that Prowler cannot judge", [label(f)])} if {
	some f in input.resources.finding
	in_scope(f)
	f.attrs.status == "MANUAL"
}

results contains {"entity": f.id, "status": "error", "reason": sprintf("%s has no recognised status (%v)", [label(f), object.get(f.attrs, "status", null)])} if {
	some f in input.resources.finding
	in_scope(f)
	not f.attrs.status in {"PASS", "FAIL", "MANUAL"}
}

results contains {"entity": f.id, "status": "error", "reason": sprintf("%s has no severity, so it cannot be scoped", [label(f)])} if {
	some f in input.resources.finding
	prowler(f)
	not is_string(f.attrs.severity)
}
