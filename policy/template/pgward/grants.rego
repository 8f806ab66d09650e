# Just-in-time grants: who may touch which tables and functions, and for how long. A grant
# matches only while not_before <= now < expires_at, compared in whole seconds.
package pgward

# identity_grants: this identity's grants for this database, with their windows in seconds.
identity_grants contains {"grant": g, "from": utc_second(g.not_before), "until": utc_second(g.expires_at)} if {
	some g in grants
	g.database == input.session.database
	subject_matches(g.subject)
}

subject_matches(subject) if subject.sub == input.identity.sub

subject_matches(subject) if subject.group in input.identity.groups

active_grants contains x.grant if {
	some x in identity_grants
	x.from <= now_second
	now_second < x.until
}

name_matches(pattern, _) if pattern == "*"

name_matches(pattern, name) if pattern == name

grant_covers(g, need) if {
	some o in g.objects
	name_matches(o.schema, need.schema)
	name_matches(o.table, need.table)
	need.action in o.actions
}

# coverage: which active grant covers which need, computed once (access and grant_ids use it).
coverage contains {"need": need, "grant": g.id} if {
	some g in active_grants
	some need in needed
	grant_covers(g, need)
}

covered_needs := {c.need | some c in coverage}

function_name(f) := parts[count(parts) - 1] if parts := split(f, ".")

# risky_functions: names the file and server guardrails list; never implicitly allowed, so they
# need an explicit grant even when their guardrail is shadowed or removed.
risky_functions contains name if {
	some id in ["guardrail.file_functions", "guardrail.server_functions"]
	some name in guardrails[id].functions
}

implicit_function(f) if {
	some s in implicit_function_schemas
	startswith(f, concat("", [s, "."]))
	not function_name(f) in risky_functions
}

function_pattern_matches(pattern, f) if pattern == f

function_pattern_matches(pattern, f) if {
	endswith(pattern, ".*")
	startswith(f, trim_suffix(pattern, "*"))
}

grant_allows_function(g, f) if {
	some pattern in object.get(g, "functions", [])
	function_pattern_matches(pattern, f)
}

explicit_functions contains f if {
	some f in input.statement.functions
	not implicit_function(f)
}

function_allowed(f) if implicit_function(f)

function_allowed(f) if {
	some g in active_grants
	grant_allows_function(g, f)
}

access_hits contains {"rule": "access.no_grant", "message": msg} if {
	count(active_grants) == 0
	msg := concat("", ["no active grant for ", input.identity.sub, " on database ", input.session.database])
}

access_hits contains {"rule": "access.table", "message": msg} if {
	count(active_grants) > 0
	some need in needed
	not need in covered_needs
	msg := concat("", [upper(need.action), " on ", need.schema, ".", need.table, " is not granted to ", input.identity.sub])
}

access_hits contains {"rule": "access.function", "message": msg} if {
	count(active_grants) > 0
	some f in explicit_functions
	not function_allowed(f)
	msg := concat("", ["function ", f, " is not granted to ", input.identity.sub])
}

# used_grant_ids: the grants that authorised something in this statement (all active grants for
# a statement that touches no table and no explicit function, such as BEGIN or SELECT 1).
used_grant_ids contains c.grant if some c in coverage

used_grant_ids contains g.id if {
	some g in active_grants
	some f in explicit_functions
	grant_allows_function(g, f)
}

used_grant_ids contains g.id if {
	count(needed) == 0
	count(explicit_functions) == 0
	some g in active_grants
}

grant_ids := sort([id | some id in used_grant_ids])

mask_exempt contains column if {
	some g in active_grants
	some column in object.get(g, "mask_exempt", [])
}

row_caps contains data.max_rows if is_number(data.max_rows)

row_caps contains g.max_rows if {
	some g in active_grants
	g.id in used_grant_ids
	is_number(g.max_rows)
}

default max_rows_limit := null

max_rows_limit := min(row_caps) if count(row_caps) > 0
