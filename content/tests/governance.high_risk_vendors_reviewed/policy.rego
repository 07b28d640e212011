package vouch.tests.governance.high_risk_vendors_reviewed

import data.vouch.lib
import rego.v1

label(v) := sprintf("vendor %s", [object.get(v.attrs, "name", v.key)])

risky(v) if v.attrs.risk in {lower(r) | some r in input.params.risk_levels}

known_risk(v) if v.attrs.risk in {"low", "medium", "high", "critical"}

reviewed(v) if {
	is_string(v.attrs.last_reviewed_at)
	lib.days_since(v.attrs.last_reviewed_at) <= input.params.days
}

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s (%s risk) was reviewed on %s", [label(v), v.attrs.risk, v.attrs.last_reviewed_at])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	reviewed(v)
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s (%s risk) was last reviewed on %s, more than %v days ago", [label(v), v.attrs.risk, v.attrs.last_reviewed_at, input.params.days])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	is_string(v.attrs.last_reviewed_at)
	not reviewed(v)
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s (%s risk) has never been reviewed", [label(v), v.attrs.risk])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	not is_string(object.get(v.attrs, "last_reviewed_at", null))
}

results contains {"entity": v.id, "status": "skip", "reason": sprintf("%s is %s risk, below the levels this test reviews", [label(v), v.attrs.risk])} if {
	some v in input.resources.vendor
	lib.live(v)
	known_risk(v)
	not risky(v)
}

results contains {"entity": v.id, "status": "error", "reason": sprintf("%s has no risk level, so it cannot be scoped", [label(v)])} if {
	some v in input.resources.vendor
	lib.live(v)
	not known_risk(v)
}
