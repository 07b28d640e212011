package vouch.tests.access.leavers_deprovisioned

import data.vouch.lib
import rego.v1

# The linked person's email, lower case, when the account is linked to one.
linked_to(a) := lower(a.owner.person) if {
	lib.human(a)
	is_string(a.owner.person)
}

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

email(p) := lower(p.attrs.email) if is_string(p.attrs.email)

email(p) := lower(p.key) if not is_string(p.attrs.email)

linked(p) := [a |
	some a in input.resources.account
	a.owner.type == "person"
	linked_to(a) == email(p)
]

label(a) := sprintf("%s in %s", [lib.name(a), a.system])

# When the account lost access: its own disable time, else when a sync found it gone.
removal(a) := ["removed", a.attrs.disabled_at] if {
	a.attrs.active == false
	has_date(object.get(a.attrs, "disabled_at", null))
} else := ["removed", a.deleted_at] if {
	a.deleted_at != null
} else := ["unknown", ""] if {
	a.attrs.active == false
} else := ["active", ""]

deadline_ns(p) := lib.ts_ns(p.attrs.end_date) + ((1 + input.params.sla_days) * lib.day_ns)

late(p) := sort([label(a) |
	some a in linked(p)
	r := removal(a)
	r[0] == "removed"
	lib.ts_ns(r[1]) > deadline_ns(p)
])

overdue(p) := sort([label(a) |
	some a in linked(p)
	removal(a)[0] == "active"
	lib.now_ns > deadline_ns(p)
])

pending(p) := [a |
	some a in linked(p)
	removal(a)[0] == "active"
	lib.now_ns <= deadline_ns(p)
]

unknown(p) := sort([label(a) |
	some a in linked(p)
	removal(a)[0] == "unknown"
])

verdict(p) := ["skip", sprintf("%s is %s, not a leaver", [email(p), object.get(p.attrs, "status", "of unknown status")])] if {
	not p.attrs.status == "terminated"
} else := ["error", sprintf("%s is terminated but HR gives no end date", [email(p)])] if {
	not has_date(object.get(p.attrs, "end_date", null))
} else := ["skip", sprintf("%s left on %s, before the %d-day review window", [email(p), p.attrs.end_date, input.params.window_days])] if {
	lib.days_since(p.attrs.end_date) > input.params.window_days
} else := ["fail", sprintf("%s left on %s but still has active accounts past the %d-day deadline: %s", [email(p), p.attrs.end_date, input.params.sla_days, concat(", ", overdue(p))])] if {
	count(overdue(p)) > 0
} else := ["fail", sprintf("%s left on %s but these accounts were removed after the %d-day deadline: %s", [email(p), p.attrs.end_date, input.params.sla_days, concat(", ", late(p))])] if {
	count(late(p)) > 0
} else := ["error", sprintf("%s left on %s; these accounts are disabled but their system does not say when: %s", [email(p), p.attrs.end_date, concat(", ", unknown(p))])] if {
	count(unknown(p)) > 0
} else := ["skip", sprintf("%s left on %s and the removal deadline has not passed yet (%d accounts still active)", [email(p), p.attrs.end_date, count(pending(p))])] if {
	count(pending(p)) > 0
} else := ["pass", sprintf("%s left on %s and had no linked accounts", [email(p), p.attrs.end_date])] if {
	count(linked(p)) == 0
} else := ["pass", sprintf("%s left on %s and all %d linked accounts were removed within %d days", [email(p), p.attrs.end_date, count(linked(p)), input.params.sla_days])]

results contains {"entity": p.id, "status": v[0], "reason": v[1]} if {
	some p in input.resources.person
	v := verdict(p)
}
