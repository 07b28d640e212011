package vouch.tests.access.leavers_no_active_accounts

import data.vouch.lib
import rego.v1

# The linked person's email, lower case, when the account is linked to one.
linked_to(a) := lower(a.owner.person) if {
	lib.human(a)
	is_string(a.owner.person)
}

email(p) := lower(p.attrs.email) if is_string(p.attrs.email)

email(p) := lower(p.key) if not is_string(p.attrs.email)

records(e) := [p | some p in input.resources.person; email(p) == e]

# Still with the company: any record (a rehire wins over an old one) not terminated, or
# terminated with a last day still to come.
current(e) if {
	some p in records(e)
	p.attrs.status in {"active", "on_leave", "pending"}
}

current(e) if {
	some p in records(e)
	p.attrs.status == "terminated"
	is_string(p.attrs.end_date)
	lib.days_since(p.attrs.end_date) < 1
}

left_on(e) := concat(" and ", sort({d |
	some p in records(e)
	p.attrs.status == "terminated"
	d := object.get(p.attrs, "end_date", "an unknown date")
})) if {
	some q in records(e)
	q.attrs.status == "terminated"
}

verdict(a) := ["skip", sprintf("%s in %s no longer exists", [lib.name(a), a.system])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in %s is disabled", [lib.name(a), a.system])] if {
	a.attrs.active == false
} else := ["skip", sprintf("%s in %s is not linked to a person", [lib.name(a), a.system])] if {
	not linked_to(a)
} else := ["error", sprintf("%s in %s is linked to %s, who is not in the HR roster", [lib.name(a), a.system, a.owner.person])] if {
	count(records(linked_to(a))) == 0
} else := ["pass", sprintf("%s in %s belongs to %s, who is still with the company", [lib.name(a), a.system, a.owner.person])] if {
	current(linked_to(a))
} else := ["fail", sprintf("%s in %s is still active but %s left on %s", [lib.name(a), a.system, a.owner.person, left_on(linked_to(a))])] if {
	left_on(linked_to(a))
} else := ["error", sprintf("%s in %s belongs to %s, whose HR status is not recognised", [lib.name(a), a.system, a.owner.person])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
