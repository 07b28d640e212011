# Helpers shared by Vouch's tests: import data.vouch.lib and call lib.days_since(ts) etc.
# Time always comes from input.now, never the clock, so a result can be reproduced.
package vouch.lib

import rego.v1

day_ns := 86400000000000

now_ns := time.parse_rfc3339_ns(input.now)

# Parses an RFC 3339 time or a plain date (YYYY-MM-DD, read as midnight UTC) to nanoseconds.
ts_ns(ts) := time.parse_rfc3339_ns(ts) if {
	contains(ts, "T")
}

ts_ns(ts) := time.parse_rfc3339_ns(concat("", [ts, "T00:00:00Z"])) if {
	not contains(ts, "T")
}

# Whole and fractional days from ts until input.now (negative when ts is in the future).
days_since(ts) := (now_ns - ts_ns(ts)) / day_ns

# Days from a to b.
days_between(a, b) := (ts_ns(b) - ts_ns(a)) / day_ns

# The resource still exists (a sync has not missed it).
live(r) if r.deleted_at == null

# An account used by a person, as the account links say.
human(a) if a.owner.type == "person"

# An account marked as a service account (with a note).
service(a) if a.owner.type == "service"

# An account nobody has been linked to yet.
unlinked(a) if a.owner.type == "unlinked"

# People from the HR roster who are employed now (active or on leave).
employed(p) if p.attrs.status in {"active", "on_leave"}

# A short label for messages: the account's username, else its key.
name(r) := r.attrs.username if r.attrs.username
name(r) := r.key if not r.attrs.username
