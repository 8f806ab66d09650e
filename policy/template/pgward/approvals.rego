# Human approval: triggers (data.approval_triggers) mark statements that need a reviewer; an
# approval file for the same identity, database and exact statement text (sha256) inside its
# window lets the statement run.
package pgward

trigger_hits contains {"rule": t.id, "message": msg, "enforce": trigger_enforced(t)} if {
	some t in approval_triggers
	trigger_subject_matches(t)
	trigger_database_matches(t)
	some need in needed
	need.action in t.actions
	trigger_table_matches(t, need)
	msg := concat("", [upper(need.action), " on ", need.schema, ".", need.table, " needs human approval: ", t.description])
}

trigger_subject_matches(t) if not t.subjects

trigger_subject_matches(t) if {
	some s in t.subjects
	subject_matches(s)
}

trigger_database_matches(t) if not t.databases

trigger_database_matches(t) if input.session.database in t.databases

trigger_table_matches(t, _) if not t.tables

trigger_table_matches(t, need) if {
	some pattern in t.tables
	name_matches(pattern.schema, need.schema)
	name_matches(pattern.table, need.table)
}

trigger_enforced(t) if {
	bundle_enforced
	object.get(t, "enforce", true) != false
} else := false

enforced_triggers := {t | some t in trigger_hits; t.enforce}

# identity_approvals: this identity's approvals for this database, by position in
# data.approvals, with windows in seconds.
identity_approvals[i] := utc_window(a.not_before, a.expires_at) if {
	some i, a in approvals
	a.identity.sub == input.identity.sub
	a.database == input.session.database
}

# matching_approvals: positions in data.approvals of the approvals that let this statement run now.
matching_approvals contains i if {
	some i, x in identity_approvals
	approvals[i].sha256 == input.statement.sha256
	x.from <= now_second
	now_second < x.until
}

matching_approval_ids := {approvals[i].id | some i in matching_approvals}

default approval_id := null

approval_id := min(matching_approval_ids) if count(matching_approval_ids) > 0

# approval_window: [not_before, expires_at] of the approval named by approval_id. The gateway counts
# runs against approvals.max_uses per approval and window, so that the same statement approved
# again later (same id, new window) is counted afresh.
approval_window := min({[x.from, x.until] |
	some i in matching_approvals
	approvals[i].id == approval_id
	x := identity_approvals[i]
})
