package vouch.tests.enc.object_storage_default

import data.vouch.lib
import rego.v1

ours(r) if {
	lib.live(r)
	r.attrs.service == "s3"
}

label(r) := sprintf("s3 %s", [object.get(r.attrs, "name", r.key)])

out_of_scope(r) if r.attrs.name in input.params.exceptions

skip_reason(_) := "is listed as an exception in the test's parameters"

results contains {"entity": r.id, "status": "pass", "reason": sprintf("%s encrypts new objects by default", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.encrypted == true
	kms_ok(r)
}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s has no default encryption", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.encrypted == false
}

results contains {"entity": r.id, "status": "error", "reason": sprintf("AWS does not report for %s", [label(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	not is_boolean(r.attrs.encrypted)
}

results contains {"entity": r.id, "status": "skip", "reason": sprintf("%s %s", [label(r), skip_reason(r)])} if {
	some r in input.resources.cloud_resource
	ours(r)
	out_of_scope(r)
}

kms_ok(r) if input.params.require_kms == false

kms_ok(r) if r.attrs.encryption_algorithm in {"aws:kms", "aws:kms:dsse"}

results contains {"entity": r.id, "status": "fail", "reason": sprintf("%s is encrypted with %v, not with KMS as required", [label(r), r.attrs.encryption_algorithm])} if {
	some r in input.resources.cloud_resource
	ours(r)
	not out_of_scope(r)
	r.attrs.encrypted == true
	not kms_ok(r)
}
