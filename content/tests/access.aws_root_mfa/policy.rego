package vouch.tests.access.aws_root_mfa

import data.vouch.lib
import rego.v1

# The credential report's mfa_active, else the generic mfa flag.
mfa(a) := a.attrs.mfa_active if is_boolean(a.attrs.mfa_active)
else := a.attrs.mfa if is_boolean(a.attrs.mfa)

acct(a) := a.attrs.account_id if is_string(a.attrs.account_id)
else := a.key

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws is not a root user", [lib.name(a)])] if {
	not a.attrs.is_root == true
} else := ["skip", sprintf("the root user of AWS account %s is no longer reported", [acct(a)])] if {
	not lib.live(a)
} else := ["pass", sprintf("the root user of AWS account %s has MFA", [acct(a)])] if {
	mfa(a) == true
} else := ["fail", sprintf("the root user of AWS account %s has no MFA", [acct(a)])] if {
	mfa(a) == false
} else := ["error", sprintf("the credential report does not say whether the root user of AWS account %s has MFA", [acct(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
