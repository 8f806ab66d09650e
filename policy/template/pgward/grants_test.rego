package pgward_test

test_grant_allows_select if {
	d := decide(base_input)
	d.allow == true
	d.outcome == "allowed"
	d.grant_ids == ["g-reporting"]
	d.reasons == []
}

test_unknown_identity_has_no_grant if {
	d := decide(as_who(base_input, "mallory", []))
	d.allow == false
	d.outcome == "blocked"
	message_of(d, "access.no_grant") == "no active grant for mallory on database app"
}

test_other_database_is_not_granted if {
	d := decide(object.union(base_input, {"session": {"database": "billing_db"}}))
	d.outcome == "blocked"
	rule_ids(d) == {"access.no_grant"}
}

test_table_not_granted_names_the_table if {
	d := decide(stmt(reads("public", "secrets", ["k"])))
	d.outcome == "blocked"
	message_of(d, "access.table") == "SELECT on public.secrets is not granted to svc-reporting"
}

test_action_not_granted if {
	d := decide(stmt(write("INSERT", "public", "customers", "insert", false)))
	d.outcome == "blocked"
	message_of(d, "access.table") == "INSERT on public.customers is not granted to svc-reporting"
}

test_grant_matches_in_its_last_second if {
	d := decide(at(base_input, "2026-11-24T11:59:59Z"))
	d.allow == true
}

test_grant_matches_until_just_before_expiry if {
	d := decide(at(base_input, "2026-11-24T11:59:59.999Z"))
	d.allow == true
}

test_grant_stops_matching_at_expiry if {
	d := decide(at(base_input, "2026-11-24T12:00:00.000Z"))
	d.allow == false
	"access.table" in rule_ids(d)
}

test_grant_matches_from_not_before if {
	d := decide(at(base_input, "2026-11-24T09:00:00Z"))
	d.allow == true
}

test_grant_does_not_match_before_not_before if {
	d := decide(at(base_input, "2026-11-24T08:59:59Z"))
	d.allow == false
}

test_offset_now_fails_closed if {
	d := decide(at(base_input, "2026-11-24T11:00:00+01:00"))
	d.allow == false
	has_reason(d, "policy.invalid_time", true)
}

test_group_subject_matches if {
	d := decide(as_who(stmt(reads("reporting", "daily_revenue", ["day", "total"])), "bi-bot", ["analytics"]))
	d.outcome == "allowed"
	d.grant_ids == ["g-analytics"]
}

test_group_grant_is_limited_to_its_objects if {
	d := decide(as_who(base_input, "bi-bot", ["analytics"]))
	d.outcome == "blocked"
	message_of(d, "access.table") == "SELECT on public.orders is not granted to bi-bot"
}

test_grant_ids_list_only_contributing_grants if {
	d := decide(stmt({"reads": [
		{"schema": "public", "table": "orders", "columns": ["id"]},
		{"schema": "reporting", "table": "daily", "columns": ["day"]},
	]}))
	d.grant_ids == ["g-analytics", "g-reporting"]
}

test_granted_function_allowed if {
	d := decide(stmt({"functions": ["public.order_total"]}))
	d.allow == true
}

test_wildcard_function_grant if {
	d := decide(stmt({"functions": ["util.slugify"]}))
	d.allow == true
}

test_function_not_granted_names_the_function if {
	d := decide(stmt({"functions": ["public.drop_everything"]}))
	d.outcome == "blocked"
	message_of(d, "access.function") == "function public.drop_everything is not granted to svc-reporting"
}

test_builtin_function_is_implicit if {
	d := decide(stmt({"functions": ["pg_catalog.upper", "pg_catalog.count"]}))
	d.allow == true
}

test_risky_builtin_needs_a_grant_even_when_its_guardrail_is_shadowed if {
	d := decide(stmt({"functions": ["pg_catalog.pg_read_file"], "flags": ["file_function"]})) with data.guardrails["guardrail.file_functions"].enforce as false
	d.outcome == "blocked"
	has_reason(d, "guardrail.file_functions", false)
	has_reason(d, "access.function", true)
}

test_statement_without_objects_allowed_with_any_grant if {
	d := decide(stmt(utility("BEGIN", ["transaction_control"])))
	d.outcome == "allowed"
	d.grant_ids == ["g-analytics", "g-reporting"]
}

test_statement_without_objects_denied_without_grant if {
	d := decide(as_who(stmt(utility("BEGIN", ["transaction_control"])), "mallory", []))
	d.outcome == "blocked"
}

test_copy_to_stdout_needs_copy_action if {
	d := decide(stmt({"command": "COPY", "flags": ["copy_to_stdout"]}))
	d.outcome == "blocked"
	message_of(d, "access.table") == "COPY on public.orders is not granted to svc-reporting"
}

test_copy_from_needs_copy_and_insert if {
	d := decide(stmt(object.union(write("COPY", "public", "orders", "copy_from", false), {"flags": ["copy_from_stdin"]})))
	d.outcome == "blocked"
	message_of(d, "access.table") == "COPY on public.orders is not granted to svc-reporting"
}

test_merge_needs_insert_update_and_delete if {
	d := decide(as_who(stmt(write("MERGE", "public", "orders", "merge", true)), "dana", ["ops"]))
	d.outcome == "blocked"
	message_of(d, "access.table") == "INSERT on public.orders is not granted to dana"
}

test_max_rows_is_the_default_without_grant_cap if {
	d := decide(as_who(stmt(reads("reporting", "daily", ["day"])), "bi-bot", ["analytics"]))
	d.limits.max_rows == 10000
}

test_max_rows_takes_the_grant_cap if {
	d := decide_grants(base_input, [object.union(grant_reporting, {"max_rows": 500})])
	d.limits.max_rows == 500
}

test_valid_until_is_the_next_expiry if {
	d := decide(base_input)
	d.valid_until == "2026-11-24T12:00:00Z"
}

test_valid_until_is_a_future_not_before if {
	later := object.union(grant_analytics, {"id": "g-later", "not_before": "2026-11-24T11:30:00Z"})
	d := decide_grants(base_input, [grant_reporting, later])
	d.valid_until == "2026-11-24T11:30:00Z"
}

test_valid_until_is_null_without_grants if {
	d := decide(as_who(base_input, "mallory", []))
	d.valid_until == null
}

test_valid_until_counts_approvals if {
	d := decide_approved(ops_delete, [object.union(approval_delete, {"expires_at": "2026-11-24T11:15:00Z"})])
	d.valid_until == "2026-11-24T11:15:00Z"
}

test_grant_with_malformed_window_never_matches if {
	d := decide_grants(base_input, [object.union(grant_reporting, {"expires_at": "next week"})])
	d.outcome == "blocked"
	d.valid_until == null
}

test_wildcard_schema_grant if {
	g := object.union(grant_reporting, {"objects": [{"schema": "*", "table": "*", "actions": ["select"]}]})
	d := decide_grants(stmt(reads("audit", "events", ["id"])), [g])
	d.allow == true
}

test_driver_catalog_read_needs_no_grant if {
	inp := stmt(object.union(reads("pg_catalog", "pg_type", ["oid", "typarray"]), {"flags": ["system_catalog"]}))
	d := decide(inp) with data.implicit_catalog_reads as ["pg_catalog.pg_type"]
	d.allow
}

test_sensitive_catalog_read_needs_a_grant if {
	inp := stmt(object.union(reads("pg_catalog", "pg_stat_activity", ["query"]), {"flags": ["system_catalog"]}))
	d := decide(inp) with data.implicit_catalog_reads as ["pg_catalog.pg_type"]
	not d.allow
	"access.table" in rule_ids(d)
}

# The grant index (data.grant_index, derived by the gateway) narrows the grants a statement looks
# at; it never changes a decision, and a grant it names is still checked in full.
index_cases := [
	base_input,
	as_who(base_input, "mallory", []),
	as_who(base_input, "svc-reporting", ["analytics", "ops"]),
	as_who(stmt(reads("reporting", "daily", ["day"])), "bi-bot", ["analytics"]),
	as_who(stmt(write("DELETE", "public", "orders", "delete", true)), "dana", ["ops"]),
	as_who(stmt(reads("public", "customers", ["email"])), "alice", ["support"]),
	object.union(base_input, {"session": {"database": "billing_db"}}),
	at(base_input, "2026-11-24T12:00:00Z"),
	at(as_who(base_input, "bi-bot", ["analytics"]), "2026-11-24T07:59:59Z"),
]

test_indexed_decisions_equal_the_scan if {
	every inp in index_cases {
		decide_indexed(inp, fixture_grants, grant_index_of(fixture_grants)) == decide(inp)
	}
}

test_index_entry_for_another_subject_grants_nothing if {
	index := {"subjects": {"mallory": [0]}, "groups": {"mallory": [0, 1, 2, 3]}, "other": [0]}
	d := decide_indexed(as_who(base_input, "mallory", ["mallory"]), fixture_grants, index)
	d.outcome == "blocked"
	rule_ids(d) == {"access.no_grant"}
}

test_grant_left_out_of_the_index_is_not_looked_at if {
	index := {"subjects": {}, "groups": {}, "other": []}
	d := decide_indexed(base_input, fixture_grants, index)
	rule_ids(d) == {"access.no_grant"}
}

test_other_grants_are_always_candidates if {
	index := {"subjects": {}, "groups": {}, "other": [0]}
	d := decide_indexed(base_input, fixture_grants, index)
	d.allow
	d.grant_ids == ["g-reporting"]
}

# The index also says which grant windows are well formed (utc_windows, by position); the policy
# compares only those windows, and checks them itself when the index does not say.
test_a_window_the_index_does_not_vouch_for_is_not_used if {
	index := object.union(grant_index_of(fixture_grants), {"utc_windows": [false | some _ in fixture_grants]})
	d := decide_indexed(base_input, fixture_grants, index)
	rule_ids(d) == {"access.no_grant"}
}

test_an_index_without_windows_leaves_the_check_to_the_policy if {
	index := object.remove(grant_index_of(fixture_grants), {"utc_windows"})
	every inp in index_cases {
		decide_indexed(inp, fixture_grants, index) == decide(inp)
	}
}

test_a_malformed_window_never_matches_through_the_index if {
	malformed := [object.union(g, {"expires_at": "2026-11-24T12:00:00.5Z"}) | some g in fixture_grants]
	d := decide_indexed(base_input, malformed, grant_index_of(malformed))
	rule_ids(d) == {"access.no_grant"}
}
