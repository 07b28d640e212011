package vouch.tests.log.audit_trail_enabled

import data.vouch.lib
import rego.v1

trails := [t | some t in input.resources.cloud_resource; lib.live(t); t.attrs.service == "cloudtrail"]

# The AWS account id is the fifth field of an ARN (empty for S3 buckets).
account_of(r) := parts[4] if {
	parts := split(r.key, ":")
	count(parts) > 5
	parts[4] != ""
}

accounts := {account_of(r) | some r in input.resources.cloud_resource; lib.live(r)}

covers(t) if {
	t.attrs.multi_region == true
	t.attrs.is_logging == true
}

covered(acct) if {
	some t in trails
	account_of(t) == acct
	covers(t)
}

label(t) := sprintf("trail %s", [object.get(t.attrs, "name", t.key)])

results contains {"entity": t.id, "status": "pass", "reason": sprintf("%s is logging in all regions", [label(t)])} if {
	some t in trails
	covers(t)
}

results contains {"entity": t.id, "status": "fail", "reason": sprintf("%s is not logging", [label(t)])} if {
	some t in trails
	t.attrs.is_logging == false
}

results contains {"entity": t.id, "status": "skip", "reason": sprintf("%s covers one region only; account %s is covered by a multi-region trail", [label(t), account_of(t)])} if {
	some t in trails
	t.attrs.is_logging == true
	t.attrs.multi_region == false
	covered(account_of(t))
}

results contains {"entity": t.id, "status": "fail", "reason": sprintf("%s covers one region only and account %s has no multi-region trail", [label(t), account_of(t)])} if {
	some t in trails
	t.attrs.is_logging == true
	t.attrs.multi_region == false
	not covered(account_of(t))
}

results contains {"entity": t.id, "status": "error", "reason": sprintf("AWS does not report whether %s is logging or multi-region", [label(t)])} if {
	some t in trails
	not is_boolean(t.attrs.is_logging)
}

results contains {"entity": t.id, "status": "error", "reason": sprintf("AWS does not report whether %s is multi-region", [label(t)])} if {
	some t in trails
	t.attrs.is_logging == true
	not is_boolean(t.attrs.multi_region)
}

results contains {"entity": sprintf("aws:%s", [acct]), "status": "fail", "reason": sprintf("AWS account %s has resources but no CloudTrail trail", [acct])} if {
	some acct in accounts
	not has_trail(acct)
}

has_trail(acct) if {
	some t in trails
	account_of(t) == acct
}
