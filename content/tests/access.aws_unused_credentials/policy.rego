package vouch.tests.access.aws_unused_credentials

import data.vouch.lib
import rego.v1

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

attr(a, f) := object.get(a.attrs, f, null)

created(a) := attr(a, "user_creation_time") if has_date(attr(a, "user_creation_time"))
else := attr(a, "created") if has_date(attr(a, "created"))

per_key(a) if "access_key_1_active" in object.keys(a.attrs)

# Each active credential with the time it was last used, or issued when never used.
creds contains ["password", attr(a, "password_last_used"), a.id] if {
	some a in input.resources.account
	attr(a, "password_enabled") == true
	has_date(attr(a, "password_last_used"))
}

creds contains ["password", created(a), a.id] if {
	some a in input.resources.account
	attr(a, "password_enabled") == true
	not has_date(attr(a, "password_last_used"))
}

creds contains [sprintf("access key %s", [n]), used, a.id] if {
	some a in input.resources.account
	some n in ["1", "2"]
	attr(a, sprintf("access_key_%s_active", [n])) == true
	used := attr(a, sprintf("access_key_%s_last_used_date", [n]))
	has_date(used)
}

creds contains [sprintf("access key %s", [n]), since, a.id] if {
	some a in input.resources.account
	some n in ["1", "2"]
	attr(a, sprintf("access_key_%s_active", [n])) == true
	not has_date(attr(a, sprintf("access_key_%s_last_used_date", [n])))
	since := first_date([attr(a, sprintf("access_key_%s_last_rotated", [n])), created(a)])
}

first_date(vs) := [v | some v in vs; has_date(v)][0]

mine(a) := [c | some c in creds; c[2] == a.id]

# An active credential whose reference time cannot be found.
undatable(a) if {
	attr(a, "password_enabled") == true
	not has_date(attr(a, "password_last_used"))
	not created(a)
}

undatable(a) if {
	some n in ["1", "2"]
	attr(a, sprintf("access_key_%s_active", [n])) == true
	not has_date(attr(a, sprintf("access_key_%s_last_used_date", [n])))
	not has_date(attr(a, sprintf("access_key_%s_last_rotated", [n])))
	not created(a)
}

unused(a) := sort([sprintf("%s unused for %d days", [c[0], floor(lib.days_since(c[1]))]) |
	some c in mine(a)
	lib.days_since(c[1]) > input.params.unused_days
])

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws no longer exists", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s is the AWS root user, judged by the root-user tests", [lib.name(a)])] if {
	a.attrs.is_root == true
} else := ["error", sprintf("aws does not report whether %s has a console password", [lib.name(a)])] if {
	not is_boolean(attr(a, "password_enabled"))
} else := ["error", sprintf("aws does not report when the access keys of %s were last used", [lib.name(a)])] if {
	not per_key(a)
	object.get(a.attrs, "access_keys_active", 0) != 0
} else := ["fail", sprintf("%s in aws has credentials unused for more than %d days: %s", [lib.name(a), input.params.unused_days, concat(", ", unused(a))])] if {
	count(unused(a)) > 0
} else := ["error", sprintf("aws does not say when %s was created or last used its credentials", [lib.name(a)])] if {
	undatable(a)
} else := ["skip", sprintf("%s in aws has no console password and no active access key", [lib.name(a)])] if {
	count(mine(a)) == 0
} else := ["pass", sprintf("%s in aws has used each of its %d credentials within %d days", [lib.name(a), count(mine(a)), input.params.unused_days])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
