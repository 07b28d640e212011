package vouch.tests.access.aws_root_no_access_keys

import data.vouch.lib
import rego.v1

acct(a) := a.attrs.account_id if is_string(a.attrs.account_id)
else := a.key

active_keys(a) := [n |
	some n in ["1", "2"]
	object.get(a.attrs, sprintf("access_key_%s_active", [n]), null) == true
]

unknown_keys(a) := [n |
	some n in ["1", "2"]
	not is_boolean(object.get(a.attrs, sprintf("access_key_%s_active", [n]), null))
]

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws is not a root user", [lib.name(a)])] if {
	not a.attrs.is_root == true
} else := ["skip", sprintf("the root user of AWS account %s is no longer reported", [acct(a)])] if {
	not lib.live(a)
} else := ["fail", sprintf("the root user of AWS account %s has an active access key (key %s)", [acct(a), concat(" and ", active_keys(a))])] if {
	count(active_keys(a)) > 0
} else := ["error", sprintf("the credential report does not say whether the root user of AWS account %s has access keys", [acct(a)])] if {
	count(unknown_keys(a)) > 0
} else := ["pass", sprintf("the root user of AWS account %s has no active access keys", [acct(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
