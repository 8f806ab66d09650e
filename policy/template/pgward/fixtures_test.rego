# Shared fixtures for the pgward tests: a base input shaped like schemas/policy-input.schema.json,
# grants in a window around 2026-11-24T11:00:00Z, and helpers to evaluate the decision with them.
package pgward_test

import data.pgward

sha_delete := "1111111111111111111111111111111111111111111111111111111111111111"

sha_other := "2222222222222222222222222222222222222222222222222222222222222222"

base_input := {
	"identity": {"sub": "svc-reporting", "groups": ["analytics"], "issuer": "https://idp.example", "via": "jwt"},
	"session": {"id": "s_1", "database": "app", "application_name": "mcp-postgres", "client_addr": "10.0.0.7"},
	"now": "2026-11-24T11:00:00.000Z",
	"statement": {
		"sha256": sha_other,
		"fingerprint": "fp",
		"index": 0,
		"count": 1,
		"command": "SELECT",
		"reads": [{"schema": "public", "table": "orders", "columns": ["id", "total"]}],
		"writes": [],
		"functions": [],
		"flags": [],
		"estimated_rows": null,
	},
}

# stmt(overrides) is the base input with the statement's fields replaced by overrides.
stmt(overrides) := object.union(base_input, {"statement": overrides})

# as_who(inp, sub, groups) replaces the identity.
as_who(inp, sub, groups) := object.union(inp, {"identity": {"sub": sub, "groups": groups}})

at(inp, now) := object.union(inp, {"now": now})

reads(schema, table, columns) := {"reads": [{"schema": schema, "table": table, "columns": columns}]}

write(command, schema, table, action, has_where) := {
	"command": command,
	"reads": [],
	"writes": [{"schema": schema, "table": table, "action": action, "has_where": has_where}],
}

utility(command, flag_list) := {"command": command, "reads": [], "writes": [], "flags": flag_list}

grant_reporting := {
	"id": "g-reporting",
	"subject": {"sub": "svc-reporting"},
	"database": "app",
	"objects": [
		{"schema": "public", "table": "orders", "actions": ["select", "insert", "update", "delete", "truncate"]},
		{"schema": "public", "table": "customers", "actions": ["select"]},
	],
	"functions": ["public.order_total", "util.*"],
	"not_before": "2026-11-24T09:00:00Z",
	"expires_at": "2026-11-24T12:00:00Z",
	"reason": "report",
	"requester": "alice@example.com",
}

grant_analytics := {
	"id": "g-analytics",
	"subject": {"group": "analytics"},
	"database": "app",
	"objects": [{"schema": "reporting", "table": "*", "actions": ["select"]}],
	"not_before": "2026-11-24T08:00:00Z",
	"expires_at": "2026-11-24T18:00:00Z",
	"reason": "dashboards",
	"requester": "bob@example.com",
}

grant_ops := {
	"id": "g-ops",
	"subject": {"group": "ops"},
	"database": "app",
	"objects": [
		{"schema": "public", "table": "orders", "actions": ["select", "update", "delete"]},
		{"schema": "billing", "table": "*", "actions": ["select", "insert", "update", "delete"]},
	],
	"not_before": "2026-11-24T08:00:00Z",
	"expires_at": "2026-11-24T20:00:00Z",
	"reason": "incident",
	"requester": "carol@example.com",
}

grant_support := {
	"id": "g-support",
	"subject": {"sub": "alice"},
	"database": "app",
	"objects": [{"schema": "public", "table": "customers", "actions": ["select"]}],
	"mask_exempt": ["public.customers.email"],
	"not_before": "2026-11-24T08:00:00Z",
	"expires_at": "2026-11-25T08:00:00Z",
	"reason": "support",
	"requester": "alice@example.com",
}

fixture_grants := [grant_reporting, grant_analytics, grant_ops, grant_support]

approval_delete := {
	"id": "apr-1",
	"identity": {"sub": "dana"},
	"database": "app",
	"sql": "DELETE FROM orders WHERE id = 7",
	"sha256": sha_delete,
	"not_before": "2026-11-24T10:00:00Z",
	"expires_at": "2026-11-24T14:00:00Z",
}

decide(inp) := d if {
	d := pgward.decision with input as inp with data.grants as fixture_grants with data.approvals as []
}

decide_grants(inp, grant_list) := d if {
	d := pgward.decision with input as inp with data.grants as grant_list with data.approvals as []
}

decide_approved(inp, approval_list) := d if {
	d := pgward.decision with input as inp with data.grants as fixture_grants with data.approvals as approval_list
}

rule_ids(d) := {r.rule | some r in d.reasons}

has_reason(d, rule, enforce) if {
	some r in d.reasons
	r.rule == rule
	r.enforce == enforce
}

message_of(d, rule) := r.message if {
	some r in d.reasons
	r.rule == rule
}

ops_delete := as_who(stmt(object.union(write("DELETE", "public", "orders", "delete", true), {"sha256": sha_delete})), "dana", ["ops"])

# grant_index_of(grant_list) is the index the gateway derives from data.grants when it loads a
# bundle (policy/decider/grant-index.ts), for grants with plain string subjects.
grant_index_of(grant_list) := {
	"subjects": {s: [i | some i, g in grant_list; g.subject.sub == s] | some g in grant_list; s := g.subject.sub},
	"groups": {s: [i | some i, g in grant_list; g.subject.group == s] | some g in grant_list; s := g.subject.group},
	"other": [],
	"utc_windows": [window_checked(g) | some g in grant_list],
}

window_checked(g) if pgward.utc_window(g.not_before, g.expires_at)

else := false

decide_indexed(inp, grant_list, index) := d if {
	d := pgward.decision with input as inp with data.grants as grant_list with data.grant_index as index with data.approvals as []
}
