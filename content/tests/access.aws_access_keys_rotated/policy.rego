package vouch.tests.access.aws_access_keys_rotated

import data.vouch.lib
import rego.v1

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

per_key(a) if "access_key_1_active" in object.keys(a.attrs)

rotated(a, n) := object.get(a.attrs, sprintf("access_key_%s_last_rotated", [n]), null)

active_keys(a) := [n |
	some n in ["1", "2"]
	object.get(a.attrs, sprintf("access_key_%s_active", [n]), null) == true
]

stale(a) := [sprintf("key %s is %d days old", [n, floor(lib.days_since(rotated(a, n)))]) |
	some n in active_keys(a)
	has_date(rotated(a, n))
	lib.days_since(rotated(a, n)) > input.params.max_age_days
]

undated(a) := [n |
	some n in active_keys(a)
	not has_date(rotated(a, n))
]

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws no longer exists", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in aws has no active access keys", [lib.name(a)])] if {
	not per_key(a)
	object.get(a.attrs, "access_keys_active", null) == 0
} else := ["error", sprintf("aws does not report when the access keys of %s were rotated", [lib.name(a)])] if {
	not per_key(a)
} else := ["skip", sprintf("%s in aws has no active access keys", [lib.name(a)])] if {
	count(active_keys(a)) == 0
} else := ["fail", sprintf("%s in aws has an access key older than %d days: %s", [lib.name(a), input.params.max_age_days, concat(", ", stale(a))])] if {
	count(stale(a)) > 0
} else := ["error", sprintf("aws does not report when access key %s of %s was rotated", [concat(" and ", undated(a)), lib.name(a)])] if {
	count(undated(a)) > 0
} else := ["pass", sprintf("%s in aws has %d active access keys, all rotated within %d days", [lib.name(a), count(active_keys(a)), input.params.max_age_days])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
