package vouch.tests.access.admin_mfa

import data.vouch.lib
import rego.v1

verdict(a) := ["skip", sprintf("%s in %s no longer exists", [lib.name(a), a.system])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in %s is not active", [lib.name(a), a.system])] if {
	a.attrs.active == false
} else := ["skip", sprintf("%s does not report whether %s is an admin", [a.system, lib.name(a)])] if {
	not is_boolean(a.attrs.admin)
} else := ["skip", sprintf("%s in %s is not an admin", [lib.name(a), a.system])] if {
	a.attrs.admin == false
} else := ["pass", sprintf("%s in %s is an admin with MFA", [lib.name(a), a.system])] if {
	a.attrs.mfa == true
} else := ["fail", sprintf("%s in %s is an admin without MFA", [lib.name(a), a.system])] if {
	a.attrs.mfa == false
} else := ["error", sprintf("%s does not report whether admin %s has MFA", [a.system, lib.name(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
