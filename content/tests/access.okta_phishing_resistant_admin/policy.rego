package vouch.tests.access.okta_phishing_resistant_admin

import data.vouch.lib
import rego.v1

# The linked person's email, lower case, when the account is linked to one.
linked_to(a) := lower(a.owner.person) if {
	lib.human(a)
	is_string(a.owner.person)
}

current(a) if {
	lib.live(a)
	not a.attrs.active == false
}

# Systems other than Okta where the same person holds an admin account.
admin_elsewhere(a) := sort({b.system |
	lib.human(a)
	some b in input.resources.account
	b.system != "okta"
	current(b)
	b.attrs.admin == true
	lib.human(b)
	linked_to(b) == linked_to(a)
})

privileged(a) if a.attrs.admin == true

privileged(a) if count(admin_elsewhere(a)) > 0

why(a) := "is an Okta admin" if a.attrs.admin == true
else := sprintf("belongs to an admin in %s", [concat(", ", admin_elsewhere(a))])

strong(a) := [f | some f in a.attrs.factors; lower(f) in input.params.strong_factors]

verdict(a) := ["skip", sprintf("%s in %s is not an Okta account", [lib.name(a), a.system])] if {
	a.system != "okta"
} else := ["skip", sprintf("%s in okta no longer exists", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in okta is disabled", [lib.name(a)])] if {
	a.attrs.active == false
} else := ["skip", sprintf("%s in okta is not an admin and holds no admin account elsewhere", [lib.name(a)])] if {
	not privileged(a)
	a.attrs.admin == false
} else := ["skip", sprintf("okta does not report admin roles and %s holds no admin account elsewhere", [lib.name(a)])] if {
	not privileged(a)
} else := ["error", sprintf("okta does not list the factors of %s, who %s", [lib.name(a), why(a)])] if {
	not is_array(a.attrs.factors)
} else := ["pass", sprintf("%s in okta %s and has a phishing-resistant factor (%s)", [lib.name(a), why(a), concat(", ", strong(a))])] if {
	count(strong(a)) > 0
} else := ["fail", sprintf("%s in okta %s but has only phishable factors (%s)", [lib.name(a), why(a), concat(", ", a.attrs.factors)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
