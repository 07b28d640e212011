package vouch.tests.vuln.sast_errors_triaged

import data.vouch.lib
import rego.v1

sarif(f) if {
	lib.live(f)
	f.attrs.rule_id
	f.system != "prowler"
}

label(f) := sprintf("%s result %s at %s:%v", [object.get(f.attrs, "tool", f.system), f.attrs.rule_id, object.get(f.attrs, "uri", "?"), object.get(f.attrs, "start_line", "?")])

suppressed(f) if f.attrs.suppressed == true

open_error(f) if {
	sarif(f)
	f.attrs.level == "error"
	f.attrs.suppressed == false
}

results contains {"entity": f.id, "status": "fail", "reason": sprintf("%s has been open %v days without a fix or suppression", [label(f), floor(lib.days_since(f.first_seen))])} if {
	some f in input.resources.finding
	open_error(f)
	lib.days_since(f.first_seen) > input.params.days
}

results contains {"entity": f.id, "status": "pass", "reason": sprintf("%s is %v days old, within the %v days allowed to triage it", [label(f), floor(lib.days_since(f.first_seen)), input.params.days])} if {
	some f in input.resources.finding
	open_error(f)
	lib.days_since(f.first_seen) <= input.params.days
}

results contains {"entity": f.id, "status": "skip", "reason": sprintf("%s is suppressed in the tool", [label(f)])} if {
	some f in input.resources.finding
	sarif(f)
	f.attrs.level == "error"
	suppressed(f)
}

results contains {"entity": f.id, "status": "skip", "reason": sprintf("%s is at level %s, not error", [label(f), f.attrs.level])} if {
	some f in input.resources.finding
	sarif(f)
	f.attrs.level in {"warning", "note", "none"}
}

results contains {"entity": f.id, "status": "error", "reason": sprintf("%s does not report its level", [label(f)])} if {
	some f in input.resources.finding
	sarif(f)
	not f.attrs.level in {"error", "warning", "note", "none"}
}

results contains {"entity": f.id, "status": "error", "reason": sprintf("%s does not say whether it is suppressed", [label(f)])} if {
	some f in input.resources.finding
	sarif(f)
	f.attrs.level == "error"
	not is_boolean(f.attrs.suppressed)
}
