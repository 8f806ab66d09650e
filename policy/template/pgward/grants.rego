# Just-in-time grants: who may touch which tables and functions, and for how long. A grant
# matches only while not_before <= now < expires_at, compared in whole seconds.
package pgward

# grant_candidates: positions in data.grants of the grants that may name this identity. The
# gateway derives data.grant_index (subject and group -> positions) from data.grants when it
# loads a bundle, so that a statement looks at its identity's grants only; without an index
# (opa test, opa eval) every grant is a candidate. identity_grants checks each candidate in
# full: the index narrows the search, it never decides.
grant_candidates contains i if some i in data.grant_index.subjects[input.identity.sub]

grant_candidates contains i if {
	some group in input.identity.groups
	some i in data.grant_index.groups[group]
}

grant_candidates contains i if some i in data.grant_index.other

grant_candidates contains i if {
	not data.grant_index
	some i, _ in grants
}

# identity_grants: this identity's grants for this database, by position in data.grants, with
# their windows in seconds. Grants are keyed by position and looked up by it, so that no set or
# object of the hot path hashes or compares whole grants.
identity_grants[i] := grant_window(i, g) if {
	some i in grant_candidates
	g := grants[i]
	g.database == input.session.database
	subject_matches(g.subject)
}

# grant_window(i, g): the window of the grant at position i when both bounds are canonical UTC
# seconds, else undefined (the grant never matches). The gateway checks every grant's bounds once
# when it loads a bundle (data.grant_index.utc_windows, by position); without that list the
# policy checks them here, for every statement.
grant_window(i, g) := {"from": g.not_before, "until": g.expires_at} if {
	data.grant_index.utc_windows[i] == true
}

grant_window(_, g) := utc_window(g.not_before, g.expires_at) if not data.grant_index.utc_windows

subject_matches(subject) if subject.sub == input.identity.sub

subject_matches(subject) if subject.group in input.identity.groups

# active_grants: position in data.grants -> grant, for the grants whose window holds now.
active_grants[i] := grants[i] if {
	some i, x in identity_grants
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

# called_functions: each function the statement calls -> its unqualified name, split once.
called_functions[f] := function_name(f) if some f in input.statement.functions

# listed_functions[id]: the names the file and server guardrails list, as sets (looked up, not
# scanned, for every function called). Never implicitly allowed, so they need an explicit grant
# even when their guardrail is shadowed or removed.
listed_functions[id] := {name | some name in guardrails[id].functions} if {
	some id in ["guardrail.file_functions", "guardrail.server_functions"]
}

risky_function(name) if listed_functions[_][name]

implicit_function(f) if {
	some s in implicit_function_schemas
	startswith(f, concat("", [s, "."]))
	name := called_functions[f]
	not risky_function(name)
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
	not covered_needs[need]
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
