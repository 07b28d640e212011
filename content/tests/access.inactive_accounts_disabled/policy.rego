package vouch.tests.access.inactive_accounts_disabled

import data.vouch.lib
import rego.v1

records_logins(a) if "last_login" in object.keys(a.attrs)

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

limit := input.params.inactive_days

idle_days(ts) := floor(lib.days_since(ts))

verdict(a) := ["skip", sprintf("%s in %s no longer exists", [lib.name(a), a.system])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in %s is already disabled", [lib.name(a), a.system])] if {
	a.attrs.active == false
} else := ["skip", sprintf("%s does not record when %s last signed in", [a.system, lib.name(a)])] if {
	not records_logins(a)
} else := ["pass", sprintf("%s in %s last signed in %d days ago", [lib.name(a), a.system, idle_days(a.attrs.last_login)])] if {
	has_date(a.attrs.last_login)
	lib.days_since(a.attrs.last_login) <= limit
} else := ["fail", sprintf("%s in %s has not signed in for %d days (limit %d)", [lib.name(a), a.system, idle_days(a.attrs.last_login), limit])] if {
	has_date(a.attrs.last_login)
} else := ["error", sprintf("%s does not say when %s was created, so an account that never signed in cannot be judged", [a.system, lib.name(a)])] if {
	not has_date(object.get(a.attrs, "created", null))
} else := ["skip", sprintf("%s in %s was created %d days ago and is still new", [lib.name(a), a.system, idle_days(a.attrs.created)])] if {
	lib.days_since(a.attrs.created) <= limit
} else := ["fail", sprintf("%s in %s has never signed in since it was created %d days ago", [lib.name(a), a.system, idle_days(a.attrs.created)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
