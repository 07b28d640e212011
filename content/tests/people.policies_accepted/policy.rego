package vouch.tests.people.policies_accepted

import data.vouch.lib
import rego.v1

label(p) := sprintf("%s (%s)", [object.get(p.attrs, "name", p.key), object.get(p.attrs, "email", p.key)])

email(p) := lower(object.get(p.attrs, "email", p.key))

accepted(p, policy) if {
	some a in input.resources.policy_acceptance
	lower(object.get(a.attrs, "person", "")) == email(p)
	lower(object.get(a.attrs, "policy", "")) == lower(policy)
	is_string(a.attrs.accepted_at)
	lib.days_since(a.attrs.accepted_at) <= input.params.days
}

missing(p) := sort([pol | some pol in input.params.policies; not accepted(p, pol)])

new_joiner(p) if {
	is_string(p.attrs.start_date)
	lib.days_since(p.attrs.start_date) <= input.params.onboarding_days
}

in_population(p) if {
	lib.live(p)
	lib.employed(p)
}

results contains {"entity": p.id, "status": "pass", "reason": sprintf("%s accepted every required policy in the last %v days", [label(p), input.params.days])} if {
	some p in input.resources.person
	in_population(p)
	count(missing(p)) == 0
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s has not accepted %s in the last %v days", [label(p), concat(", ", missing(p)), input.params.days])} if {
	some p in input.resources.person
	in_population(p)
	count(missing(p)) > 0
	not new_joiner(p)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s started on %s and is within the %v-day window to accept the policies", [label(p), p.attrs.start_date, input.params.onboarding_days])} if {
	some p in input.resources.person
	in_population(p)
	count(missing(p)) > 0
	new_joiner(p)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s is %v, not employed", [label(p), object.get(p.attrs, "status", "without a status")])} if {
	some p in input.resources.person
	lib.live(p)
	not lib.employed(p)
}
