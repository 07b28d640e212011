package vouch.tests.access.accounts_linked_to_people

import data.vouch.lib
import rego.v1

has_note(a) if {
	is_string(a.owner.note)
	trim_space(a.owner.note) != ""
}

verdict(a) := ["skip", sprintf("%s in %s no longer exists", [lib.name(a), a.system])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in %s is disabled", [lib.name(a), a.system])] if {
	a.attrs.active == false
} else := ["pass", sprintf("%s in %s belongs to %s", [lib.name(a), a.system, a.owner.person])] if {
	lib.human(a)
	is_string(a.owner.person)
} else := ["pass", sprintf("%s in %s is a service account: %s", [lib.name(a), a.system, a.owner.note])] if {
	lib.service(a)
	has_note(a)
} else := ["fail", sprintf("%s in %s is marked as a service account but no note says what it is for or who owns it", [lib.name(a), a.system])] if {
	lib.service(a)
} else := ["fail", sprintf("%s in %s is not linked to any person or service", [lib.name(a), a.system])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
