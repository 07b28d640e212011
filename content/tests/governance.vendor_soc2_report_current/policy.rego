package vouch.tests.governance.vendor_soc2_report_current

import data.vouch.lib
import rego.v1

label(v) := sprintf("vendor %s", [object.get(v.attrs, "name", v.key)])

risky(v) if v.attrs.risk in {lower(r) | some r in input.params.risk_levels}

known_risk(v) if v.attrs.risk in {"low", "medium", "high", "critical"}

report_until(v) := v.attrs.soc2_report_until if is_string(v.attrs.soc2_report_until)

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s has a SOC 2 report covering until %s", [label(v), report_until(v)])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	lib.days_since(report_until(v)) <= input.params.stale_days
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s's SOC 2 report ended on %s and is out of date", [label(v), report_until(v)])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	lib.days_since(report_until(v)) > input.params.stale_days
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s (%s risk) has no SOC 2 report on file", [label(v), v.attrs.risk])} if {
	some v in input.resources.vendor
	lib.live(v)
	risky(v)
	not report_until(v)
}

results contains {"entity": v.id, "status": "skip", "reason": sprintf("%s is %s risk, below the levels this test covers", [label(v), v.attrs.risk])} if {
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
