package vouch.tests.access.mfa_enrolled

import data.vouch.lib
import rego.v1

in_population(a) if {
	lib.live(a)
	a.attrs.active == true
	lib.human(a)
}

results contains {"entity": a.id, "status": "pass", "reason": sprintf("%s in %s has MFA", [lib.name(a), a.system])} if {
	some a in input.resources.account
	in_population(a)
	a.attrs.mfa == true
}

results contains {"entity": a.id, "status": "fail", "reason": sprintf("%s in %s has no MFA", [lib.name(a), a.system])} if {
	some a in input.resources.account
	in_population(a)
	a.attrs.mfa == false
	lib.days_since(a.first_seen) > input.params.grace_days
}

results contains {"entity": a.id, "status": "skip", "reason": sprintf("%s in %s is new and has %d days to enrol", [lib.name(a), a.system, input.params.grace_days])} if {
	some a in input.resources.account
	in_population(a)
	a.attrs.mfa == false
	lib.days_since(a.first_seen) <= input.params.grace_days
}

results contains {"entity": a.id, "status": "error", "reason": sprintf("%s does not report whether %s has MFA", [a.system, lib.name(a)])} if {
	some a in input.resources.account
	in_population(a)
	not is_boolean(a.attrs.mfa)
}

results contains {"entity": a.id, "status": "skip", "reason": sprintf("%s in %s is not a person's active account", [lib.name(a), a.system])} if {
	some a in input.resources.account
	not in_population(a)
}
