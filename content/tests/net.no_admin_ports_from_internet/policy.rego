package vouch.tests.net.no_admin_ports_from_internet

import data.vouch.lib
import rego.v1

groups := [g | some g in input.resources.cloud_resource; lib.live(g); g.attrs.service == "ec2"]

label(g) := sprintf("security group %s (%s)", [object.get(g.attrs, "group_id", g.key), object.get(g.attrs, "name", "?")])

in_scope(g) if not object.get(g.attrs, "group_id", "") in input.params.exceptions

# A world-open port label exposes admin port p (tcp:22) when it is the port itself, all
# traffic, all ports of the protocol, or a range containing it.
exposes(label, _) if label == "all"

exposes(label, p) if label == p

exposes(label, p) if {
	[proto, _] := split(p, ":")
	label == sprintf("%s:all", [proto])
}

exposes(label, p) if {
	[proto, port] := split(p, ":")
	[lproto, range] := split(label, ":")
	lproto == proto
	contains(range, "-")
	[lo, hi] := split(range, "-")
	to_number(lo) <= to_number(port)
	to_number(port) <= to_number(hi)
}

bad(g) := sort({l | some l in g.attrs.open_ports; some p in input.params.admin_ports; exposes(l, p)})

judged(g) if {
	in_scope(g)
	is_boolean(g.attrs.open_to_world)
	is_array(g.attrs.open_ports)
}

results contains {"entity": g.id, "status": "fail", "reason": sprintf("%s allows %s from the internet", [label(g), concat(", ", bad(g))])} if {
	some g in groups
	judged(g)
	count(bad(g)) > 0
}

results contains {"entity": g.id, "status": "pass", "reason": sprintf("%s opens no administrative port to the internet", [label(g)])} if {
	some g in groups
	judged(g)
	count(bad(g)) == 0
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
