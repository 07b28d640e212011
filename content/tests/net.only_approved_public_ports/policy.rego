package vouch.tests.net.only_approved_public_ports

import data.vouch.lib
import rego.v1

groups := [g | some g in input.resources.cloud_resource; lib.live(g); g.attrs.service == "ec2"]

label(g) := sprintf("security group %s (%s)", [object.get(g.attrs, "group_id", g.key), object.get(g.attrs, "name", "?")])

in_scope(g) if not object.get(g.attrs, "group_id", "") in input.params.exceptions

unapproved(g) := sort({l | some l in g.attrs.open_ports; not l in input.params.allowed})

judged(g) if {
	in_scope(g)
	is_boolean(g.attrs.open_to_world)
	is_array(g.attrs.open_ports)
}

results contains {"entity": g.id, "status": "fail", "reason": sprintf("%s opens unapproved ports to the internet: %s", [label(g), concat(", ", unapproved(g))])} if {
	some g in groups
	judged(g)
	count(unapproved(g)) > 0
}

results contains {"entity": g.id, "status": "pass", "reason": sprintf("%s opens only approved ports to the internet", [label(g)])} if {
	some g in groups
	judged(g)
	count(unapproved(g)) == 0
}

results contains {"entity": g.id, "status": "skip", "reason": sprintf("%s is listed as an exception in the test's parameters", [label(g)])} if {
	some g in groups
	not in_scope(g)
}

results contains {"entity": g.id, "status": "error", "reason": sprintf("AWS does not report the open ports of %s", [label(g)])} if {
	some g in groups
	in_scope(g)
	not judged(g)
}
