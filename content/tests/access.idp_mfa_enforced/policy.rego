package vouch.tests.access.idp_mfa_enforced

import data.vouch.lib
import rego.v1

verdict(a) := ["skip", sprintf("%s in %s is not a Google Workspace account", [lib.name(a), a.system])] if {
	a.system != "google_workspace"
} else := ["skip", sprintf("%s in google_workspace no longer exists", [lib.name(a)])] if {
	not lib.live(a)
} else := ["skip", sprintf("%s in google_workspace is suspended or archived", [lib.name(a)])] if {
	not a.attrs.active == true
} else := ["pass", sprintf("%s in google_workspace has 2-step verification enforced", [lib.name(a)])] if {
	a.attrs.mfa_enforced == true
} else := ["fail", sprintf("%s in google_workspace (org unit %s) does not have 2-step verification enforced", [lib.name(a), object.get(a.attrs, "org_unit", "unknown")])] if {
	a.attrs.mfa_enforced == false
} else := ["error", sprintf("google_workspace does not report whether 2-step verification is enforced for %s", [lib.name(a)])]

results contains {"entity": a.id, "status": v[0], "reason": v[1]} if {
	some a in input.resources.account
	v := verdict(a)
}
