package vouch.tests.access.github_members_current

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

employed(e) if {
	some p in records(e)
	lib.employed(p)
}

statuses(e) := concat(", ", sort({s | some p in records(e); s := object.get(p.attrs, "status", "unknown")}))

has_note(a) if {
	is_string(a.owner.note)
	trim_space(a.owner.note) != ""
}

verdict(a) := ["skip", sprintf("%s in %s is not a GitHub account", [lib.name(a), a.system])] if {
	a.system != "github"
} else := ["skip", sprintf("%s is no longer a member of the GitHub organisation", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in github is not an active member", [lib.name(a)])] if {
	a.attrs.active == false
} else := ["pass", sprintf("%s in github is a service account: %s", [lib.name(a), a.owner.note])] if {
	lib.service(a)
	has_note(a)
} else := ["fail", sprintf("%s in github is a service account with no note naming its owner", [lib.name(a)])] if {
	lib.service(a)
} else := ["fail", sprintf("%s in github is not linked to any person", [lib.name(a)])] if {
	not linked_to(a)
} else := ["fail", sprintf("%s in github belongs to %s, who is not in the HR roster", [lib.name(a), a.owner.person])] if {
	count(records(linked_to(a))) == 0
} else := ["pass", sprintf("%s in github belongs to %s, a current member of staff", [lib.name(a), a.owner.person])] if {
	employed(linked_to(a))
} else := ["fail", sprintf("%s in github belongs to %s, whose HR status is %s", [lib.name(a), a.owner.person, statuses(linked_to(a))])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
