package vouch.tests.people.security_training_annual

import data.vouch.lib
import rego.v1

label(p) := sprintf("%s (%s)", [object.get(p.attrs, "name", p.key), object.get(p.attrs, "email", p.key)])

email(p) := lower(object.get(p.attrs, "email", p.key))

completions(p) := [t.attrs.completed_at |
	some t in input.resources.training_record
	lib.live(t)
	lower(object.get(t.attrs, "person", "")) == email(p)
	regex.match(input.params.course_pattern, lower(object.get(t.attrs, "course", "")))
	is_string(t.attrs.completed_at)
	lib.days_since(t.attrs.completed_at) >= 0
]

recent(p) if {
	some c in completions(p)
	lib.days_since(c) <= input.params.days
}

new_joiner(p) if {
	is_string(p.attrs.start_date)
	lib.days_since(p.attrs.start_date) <= input.params.onboarding_days
}

in_population(p) if {
	lib.live(p)
	lib.employed(p)
}

results contains {"entity": p.id, "status": "pass", "reason": sprintf("%s completed security training on %s", [label(p), max(completions(p))])} if {
	some p in input.resources.person
	in_population(p)
	recent(p)
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s has not completed security training in the last %v days", [label(p), input.params.days])} if {
	some p in input.resources.person
	in_population(p)
	not recent(p)
	not new_joiner(p)
	is_string(p.attrs.start_date)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s started on %s and is within the %v-day onboarding window", [label(p), p.attrs.start_date, input.params.onboarding_days])} if {
	some p in input.resources.person
	in_population(p)
	not recent(p)
	new_joiner(p)
}

results contains {"entity": p.id, "status": "error", "reason": sprintf("%s has no start date, so the onboarding window cannot be judged", [label(p)])} if {
	some p in input.resources.person
	in_population(p)
	not recent(p)
	not is_string(p.attrs.start_date)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s is %v, not employed", [label(p), object.get(p.attrs, "status", "without a status")])} if {
	some p in input.resources.person
	lib.live(p)
	not lib.employed(p)
}
