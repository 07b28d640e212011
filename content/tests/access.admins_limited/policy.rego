package vouch.tests.access.admins_limited

import data.vouch.lib
import rego.v1

current(a) if {
	lib.live(a)
	not a.attrs.active == false
}

systems := {a.system | some a in input.resources.account; current(a)}

# A system reports admin rights when at least one of its current accounts says true or false.
reports_admin(s) if {
	some a in input.resources.account
	current(a)
	a.system == s
	is_boolean(a.attrs.admin)
}

admins(s) := sort([lib.name(a) |
	some a in input.resources.account
	current(a)
	a.system == s
	a.attrs.admin == true
])

verdict(s) := ["skip", sprintf("%s does not report which accounts are admins", [s])] if {
	not reports_admin(s)
} else := ["fail", sprintf("%s has %d admins, fewer than the minimum of %d", [s, count(admins(s)), input.params.min_admins])] if {
	count(admins(s)) < input.params.min_admins
} else := ["fail", sprintf("%s has %d admins, more than the maximum of %d: %s", [s, count(admins(s)), input.params.max_admins, concat(", ", admins(s))])] if {
	count(admins(s)) > input.params.max_admins
} else := ["pass", sprintf("%s has %d admins, within %d to %d: %s", [s, count(admins(s)), input.params.min_admins, input.params.max_admins, concat(", ", admins(s))])]

results contains {"entity": s, "status": v[0], "reason": v[1]} if {
	some s in systems
	v := verdict(s)
}
