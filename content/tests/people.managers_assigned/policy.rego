package vouch.tests.people.managers_assigned

import data.vouch.lib
import rego.v1

label(p) := sprintf("%s (%s)", [object.get(p.attrs, "name", p.key), object.get(p.attrs, "email", p.key)])

email(p) := lower(object.get(p.attrs, "email", p.key))

employed_emails := {email(p) | some p in input.resources.person; lib.live(p); lib.employed(p)}

top(p) if email(p) in {lower(e) | some e in input.params.top}

manager(p) := lower(p.attrs.manager_email) if {
	is_string(p.attrs.manager_email)
	p.attrs.manager_email != ""
}

in_population(p) if {
	lib.live(p)
	lib.employed(p)
	not top(p)
}

results contains {"entity": p.id, "status": "pass", "reason": sprintf("%s reports to %s", [label(p), manager(p)])} if {
	some p in input.resources.person
	in_population(p)
	manager(p) in employed_emails
	manager(p) != email(p)
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s reports to %s, who is not an employed person", [label(p), manager(p)])} if {
	some p in input.resources.person
	in_population(p)
	manager(p)
	not manager(p) in employed_emails
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s is recorded as their own manager", [label(p)])} if {
	some p in input.resources.person
	in_population(p)
	manager(p) == email(p)
}

results contains {"entity": p.id, "status": "fail", "reason": sprintf("%s has no manager in the HR system", [label(p)])} if {
	some p in input.resources.person
	in_population(p)
	not manager(p)
}

results contains {"entity": p.id, "status": "skip", "reason": sprintf("%s heads the company and reports to the board", [label(p)])} if {
	some p in input.resources.person
	lib.live(p)
	lib.employed(p)
	top(p)
}
