package vouch.tests.vuln.fixes_applied

import data.vouch.lib
import rego.v1

label(v) := sprintf("%s in %s on %s", [
	object.get(v.attrs, "vulnerability_id", v.key),
	object.get(v.attrs, "package", "?"),
	object.get(v.attrs, "artifact", "?"),
])

# Trivy names one fixed version; Grype gives fix_state and a list.
fix_available(v) if {
	is_string(v.attrs.fixed_version)
	v.attrs.fixed_version != ""
}

fix_available(v) if {
	v.attrs.fix_state == "fixed"
	count(object.get(v.attrs, "fixed_versions", [])) > 0
}

no_fix(v) if {
	v.attrs.fix_state in {"not-fixed", "wont-fix"}
}

no_fix(v) if {
	not v.attrs.fix_state
	v.attrs.status in {"affected", "will_not_fix", "fix_deferred", "end_of_life"}
	not fix_available(v)
}

no_fix(v) if {
	v.attrs.fix_state == "fixed"
	count(object.get(v.attrs, "fixed_versions", [])) == 0
}

in_population(v) if {
	lib.live(v)
	v.attrs.severity != "negligible"
}

fix_name(v) := v.attrs.fixed_version if is_string(v.attrs.fixed_version)

fix_name(v) := concat(", ", v.attrs.fixed_versions) if not is_string(v.attrs.fixed_version)

results contains {"entity": v.id, "status": "fail", "reason": sprintf("%s has had a fix (%s) available for %v days and is still installed", [label(v), fix_name(v), floor(lib.days_since(v.first_seen))])} if {
	some v in input.resources.vulnerability
	in_population(v)
	fix_available(v)
	lib.days_since(v.first_seen) > input.params.days
}

results contains {"entity": v.id, "status": "pass", "reason": sprintf("%s has a fix (%s) and is within the %v days allowed to apply it", [label(v), fix_name(v), input.params.days])} if {
	some v in input.resources.vulnerability
	in_population(v)
	fix_available(v)
	lib.days_since(v.first_seen) <= input.params.days
}

results contains {"entity": v.id, "status": "skip", "reason": sprintf("%s has no fixed version published yet", [label(v)])} if {
	some v in input.resources.vulnerability
	in_population(v)
	not fix_available(v)
	no_fix(v)
}

results contains {"entity": v.id, "status": "error", "reason": sprintf("%s does not say whether a fixed version exists", [label(v)])} if {
	some v in input.resources.vulnerability
	in_population(v)
	not fix_available(v)
	not no_fix(v)
}
