package vouch.tests.access.aws_console_mfa

import data.vouch.lib
import rego.v1

mfa(a) := a.attrs.mfa_active if is_boolean(a.attrs.mfa_active)
else := a.attrs.mfa if is_boolean(a.attrs.mfa)

verdict(a) := ["skip", sprintf("%s in %s is not an AWS account", [lib.name(a), a.system])] if {
	a.system != "aws"
} else := ["skip", sprintf("%s in aws no longer exists", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s is the AWS root user, judged by the root MFA test", [lib.name(a)])] if {
	a.attrs.is_root == true
} else := ["skip", sprintf("%s in aws has no console password", [lib.name(a)])] if {
	a.attrs.password_enabled == false
} else := ["error", sprintf("aws does not report whether %s has a console password", [lib.name(a)])] if {
	not a.attrs.password_enabled == true
} else := ["pass", sprintf("%s in aws signs in to the console with MFA", [lib.name(a)])] if {
	mfa(a) == true
} else := ["fail", sprintf("%s in aws has a console password but no MFA", [lib.name(a)])] if {
	mfa(a) == false
} else := ["error", sprintf("aws does not report whether console user %s has MFA", [lib.name(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
