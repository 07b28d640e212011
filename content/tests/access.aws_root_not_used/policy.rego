package vouch.tests.access.aws_root_not_used

import data.vouch.lib
import rego.v1

fields := ["password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date", "last_used"]

acct(a) := a.attrs.account_id if is_string(a.attrs.account_id)
else := a.key

has_date(v) if {
	is_string(v)
	regex.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
}

uses(a) := [lib.ts_ns(v) |
	some f in fields
	v := object.get(a.attrs, f, null)
	has_date(v)
]

reported(a) if {
	some f in fields
	f in object.keys(a.attrs)
}

last_use(a) := [substring(v, 0, 10) |
	some f in fields
	v := object.get(a.attrs, f, null)
	has_date(v)
	lib.ts_ns(v) == max(uses(a))
][0]

days_ago(a) := floor((lib.now_ns - max(uses(a))) / lib.day_ns)

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws is not a root user", [lib.name(a)])] if {
	not a.attrs.is_root == true
} else := ["skip", sprintf("the root user of AWS account %s is no longer reported", [acct(a)])] if {
	not lib.live(a)
} else := ["error", sprintf("the credential report gives no last-use times for the root user of AWS account %s", [acct(a)])] if {
	not reported(a)
} else := ["pass", sprintf("the root user of AWS account %s has no recorded use", [acct(a)])] if {
	count(uses(a)) == 0
} else := ["fail", sprintf("the root user of AWS account %s was used on %s, %d days ago (limit %d)", [acct(a), last_use(a), days_ago(a), input.params.days])] if {
	days_ago(a) < input.params.days
} else := ["pass", sprintf("the root user of AWS account %s was last used on %s, %d days ago", [acct(a), last_use(a), days_ago(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
