package vouch.tests.access.unique_accounts

import data.vouch.lib
import rego.v1

# The linked person's email, lower case, when the account is linked to one.
linked_to(a) := lower(a.owner.person) if {
	lib.human(a)
	is_string(a.owner.person)
}

in_scope(a) if {
	lib.live(a)
	not a.attrs.active == false
	linked_to(a)
}

# The tenant inside a system: the AWS account, the GitHub organisation, or the system itself.
tenant(a) := sprintf("%s %s", [a.system, a.attrs.account_id]) if is_string(a.attrs.account_id)
else := sprintf("%s %s", [a.system, a.attrs.org]) if is_string(a.attrs.org)
else := a.system

siblings(a) := sort([lib.name(b) |
	some b in input.resources.account
	in_scope(b)
	tenant(b) == tenant(a)
	linked_to(b) == linked_to(a)
])

verdict(a) := ["skip", sprintf("%s in %s no longer exists", [lib.name(a), a.system])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in %s is disabled", [lib.name(a), a.system])] if {
	a.attrs.active == false
} else := ["skip", sprintf("%s in %s is not linked to a person", [lib.name(a), a.system])] if {
	not linked_to(a)
} else := ["fail", sprintf("%s has %d active accounts in %s: %s", [a.owner.person, count(siblings(a)), tenant(a), concat(", ", siblings(a))])] if {
	count(siblings(a)) > 1
} else := ["pass", sprintf("%s is the only active account of %s in %s", [lib.name(a), a.owner.person, tenant(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
