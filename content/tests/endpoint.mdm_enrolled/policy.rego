package vouch.tests.endpoint.mdm_enrolled

import data.vouch.lib
import rego.v1

label(d) := sprintf("%s (%s)", [object.get(d.attrs, "hostname", d.key), d.system])

unmanaged(d) if lower(object.get(d.attrs, "platform", "")) in input.params.unmanaged_platforms

results contains {"entity": d.id, "status": "pass", "reason": sprintf("%s is enrolled in MDM", [label(d)])} if {
	some d in input.resources.device
	lib.live(d)
	not unmanaged(d)
	d.attrs.mdm_enrolled == true
}

results contains {"entity": d.id, "status": "fail", "reason": sprintf("%s is not enrolled in MDM", [label(d)])} if {
	some d in input.resources.device
	lib.live(d)
	not unmanaged(d)
	d.attrs.mdm_enrolled == false
}

results contains {"entity": d.id, "status": "error", "reason": sprintf("%s does not report whether it is enrolled in MDM", [label(d)])} if {
	some d in input.resources.device
	lib.live(d)
	not unmanaged(d)
	not is_boolean(object.get(d.attrs, "mdm_enrolled", null))
}

results contains {"entity": d.id, "status": "skip", "reason": sprintf("%s runs %s, which MDM does not manage", [label(d), d.attrs.platform])} if {
	some d in input.resources.device
	lib.live(d)
	unmanaged(d)
}
