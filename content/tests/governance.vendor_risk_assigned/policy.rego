package vouch.tests.governance.vendor_risk_assigned

import data.vouch.lib
import rego.v1

label(v) := sprintf("vendor %s", [object.get(v.attrs, "name", v.key)])

known_risk(v) if v.attrs.risk in {"low", "medium", "high", "critical"}

has_owner(v) if {
	is_string(v.attrs.owner)
	trim_space(v.attrs.owner) != ""
}

offboarded(v) if object.get(v.attrs, "status", "") in {"offboarded", "terminated", "inactive"}

in_population(v) if {
	lib.live(v)
	not offboarded(v)
}

known_risk_b(v) := true if known_risk(v)

known_risk_b(v) := false if not known_risk(v)

has_owner_b(v) := true if has_owner(v)

has_owner_b(v) := false if not has_owner(v)

gaps(v) := [m | some [m, ok] in [["a risk level", known_risk_b(v)], ["an owner", has_owner_b(v)]]; ok == false]

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s has risk %s and owner %s", [label(v), v.attrs.risk, v.attrs.owner])} if {
	some v in input.resources.vendor
	in_population(v)
	count(gaps(v)) == 0
}

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s has no %s", [label(v), concat(" and no ", [trim_prefix(trim_prefix(g, "a "), "an ") | some g in gaps(v)])])} if {
	some v in input.resources.vendor
	in_population(v)
	count(gaps(v)) > 0
}

results contains {"entity": v.id, "status": "skip", "reason": sprintf("%s is offboarded", [label(v)])} if {
	some v in input.resources.vendor
	lib.live(v)
	offboarded(v)
}
