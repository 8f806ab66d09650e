package pgward_test

test_ops_delete_requires_approval if {
	d := decide(ops_delete)
	d.allow == false
	d.outcome == "approval_required"
	d.approval == {"required": true, "id": null}
	message_of(d, "approval.ops_delete") == "DELETE on public.orders needs human approval: DELETE by the ops group on any table is reviewed by a second person"
}

test_matching_approval_allows if {
	d := decide_approved(ops_delete, [approval_delete])
	d.allow == true
	d.outcome == "allowed"
	d.approval == {"required": true, "id": "apr-1", "not_before": "2026-11-24T10:00:00Z", "expires_at": "2026-11-24T14:00:00Z"}
	d.reasons == []
	d.grant_ids == ["g-ops"]
}

test_approval_for_other_statement_does_not_match if {
	d := decide_approved(ops_delete, [object.union(approval_delete, {"sha256": sha_other})])
	d.outcome == "approval_required"
}

test_approval_for_other_identity_does_not_match if {
	d := decide_approved(as_who(ops_delete, "erin", ["ops"]), [approval_delete])
	d.outcome == "approval_required"
	d.approval.id == null
}

test_approval_for_other_database_does_not_match if {
	d := decide_approved(ops_delete, [object.union(approval_delete, {"database": "staging"})])
	d.outcome == "approval_required"
}

test_approval_stops_matching_at_expiry if {
	d := decide_approved(at(ops_delete, "2026-11-24T14:00:00Z"), [approval_delete])
	d.outcome == "approval_required"
}

test_approval_matches_in_its_last_second if {
	d := decide_approved(at(ops_delete, "2026-11-24T13:59:59Z"), [approval_delete])
	d.outcome == "allowed"
}

test_approval_not_yet_valid if {
	d := decide_approved(at(ops_delete, "2026-11-24T09:59:59Z"), [approval_delete])
	d.outcome == "approval_required"
}

test_approval_cannot_override_a_guardrail if {
	inp := as_who(stmt(object.union(write("DELETE", "public", "orders", "delete", false), {"sha256": sha_delete})), "dana", ["ops"])
	d := decide_approved(inp, [approval_delete])
	d.outcome == "blocked"
	d.approval == {"required": false, "id": null}
	not "approval.ops_delete" in rule_ids(d)
}

test_approval_cannot_replace_a_grant if {
	inp := as_who(stmt(object.union(write("DELETE", "public", "customers", "delete", true), {"sha256": sha_delete})), "dana", ["ops"])
	d := decide_approved(inp, [approval_delete])
	d.outcome == "blocked"
	"access.table" in rule_ids(d)
}

test_trigger_without_subjects_applies_to_everyone if {
	inp := as_who(stmt(write("INSERT", "billing", "invoices", "insert", false)), "dana", ["ops"])
	d := decide(inp)
	d.outcome == "approval_required"
	rule_ids(d) == {"approval.billing_writes"}
}

test_select_by_ops_needs_no_approval if {
	d := decide(as_who(base_input, "dana", ["ops"]))
	d.outcome == "allowed"
	d.approval.required == false
}

test_trigger_scoped_to_other_database_does_not_fire if {
	scoped := [{"id": "approval.ops_delete", "description": "x", "actions": ["delete"], "databases": ["other"]}]
	d := decide(ops_delete) with data.approval_triggers as scoped
	d.outcome == "allowed"
}

test_shadow_trigger_reports_and_allows if {
	shadowed := [object.union(t, {"enforce": false}) | some t in data.approval_triggers]
	d := decide(ops_delete) with data.approval_triggers as shadowed
	d.outcome == "allowed"
	d.approval.required == false
	has_reason(d, "approval.ops_delete", false)
}

test_reissued_approval_names_its_own_window if {
	later := object.union(approval_delete, {"not_before": "2026-11-24T15:00:00Z", "expires_at": "2026-11-24T16:00:00Z"})
	d := decide_approved(at(ops_delete, "2026-11-24T15:30:00Z"), [approval_delete, later])
	d.outcome == "allowed"
	d.approval == {"required": true, "id": "apr-1", "not_before": "2026-11-24T15:00:00Z", "expires_at": "2026-11-24T16:00:00Z"}
}

test_overlapping_windows_of_one_approval_name_the_earliest if {
	wider := object.union(approval_delete, {"not_before": "2026-11-24T09:00:00Z", "expires_at": "2026-11-24T15:00:00Z"})
	d := decide_approved(ops_delete, [approval_delete, wider])
	d.approval == {"required": true, "id": "apr-1", "not_before": "2026-11-24T09:00:00Z", "expires_at": "2026-11-24T15:00:00Z"}
}

test_approval_with_a_malformed_window_does_not_match if {
	broken := object.union(approval_delete, {"expires_at": "tomorrow"})
	d := decide_approved(ops_delete, [broken])
	d.outcome == "approval_required"
	d.approval == {"required": true, "id": null}
}
