package pgward_test

test_ddl_blocked_names_the_table if {
	d := decide(stmt(object.union(utility("CREATE TABLE", ["ddl"]), {"objects": [{"kind": "table", "name": "public.t"}]})))
	d.outcome == "blocked"
	message_of(d, "guardrail.ddl") == "CREATE TABLE (table public.t) is DDL; schema changes go through migrations, not the gateway"
}

test_create_table_as_blocked if {
	d := decide(stmt({"command": "CREATE TABLE AS", "flags": ["create_table_as"]}))
	has_reason(d, "guardrail.ddl", true)
	d.outcome == "blocked"
}

test_select_into_blocked if {
	d := decide(stmt({"flags": ["select_into"]}))
	has_reason(d, "guardrail.ddl", true)
}

test_truncate_blocked_even_when_granted if {
	d := decide(stmt(write("TRUNCATE", "public", "orders", "truncate", false)))
	d.outcome == "blocked"
	message_of(d, "guardrail.truncate") == "TRUNCATE of public.orders is not allowed"
	not "access.table" in rule_ids(d)
}

test_alter_system_blocked if {
	d := decide(stmt(utility("ALTER SYSTEM", ["alter_system"])))
	d.outcome == "blocked"
	has_reason(d, "guardrail.alter_system", true)
}

test_copy_program_blocked if {
	d := decide(stmt(object.union(write("COPY", "public", "orders", "copy_from", false), {"flags": ["copy_program"]})))
	message_of(d, "guardrail.copy_program") == "COPY (public.orders) with PROGRAM runs a shell command on the database server"
}

test_copy_file_blocked if {
	d := decide(stmt({"command": "COPY", "flags": ["copy_file"]}))
	d.outcome == "blocked"
	has_reason(d, "guardrail.copy_file", true)
}

test_file_function_blocked_names_the_function if {
	d := decide(stmt({"reads": [], "functions": ["pg_catalog.pg_read_file"], "flags": ["file_function"]}))
	d.outcome == "blocked"
	message_of(d, "guardrail.file_functions") == "function pg_catalog.pg_read_file reads or writes files on the database server"
}

test_lo_import_blocked if {
	d := decide(stmt({"functions": ["pg_catalog.lo_import"]}))
	has_reason(d, "guardrail.file_functions", true)
}

test_file_function_flag_alone_blocks if {
	d := decide(stmt({"flags": ["file_function"]}))
	has_reason(d, "guardrail.file_functions", true)
}

test_dblink_blocked_in_any_schema if {
	d := decide(stmt({"functions": ["ext.dblink"]}))
	message_of(d, "guardrail.server_functions") == "function ext.dblink acts on the server, other sessions or other databases"
}

test_pg_terminate_backend_blocked if {
	d := decide(stmt({"reads": [], "functions": ["pg_catalog.pg_terminate_backend"]}))
	d.outcome == "blocked"
	has_reason(d, "guardrail.server_functions", true)
}

test_role_change_blocked if {
	d := decide(stmt(utility("SET", ["role_change"])))
	d.outcome == "blocked"
	has_reason(d, "guardrail.role_change", true)
}

test_grant_revoke_blocked if {
	d := decide(stmt(object.union(utility("GRANT", ["grant_revoke"]), {"objects": [{"kind": "table", "name": "public.orders"}]})))
	message_of(d, "guardrail.grant_revoke") == "GRANT (table public.orders) changes privileges, which is not allowed"
}

test_session_authorization_blocked if {
	d := decide(stmt(utility("SET", ["session_authorization"])))
	has_reason(d, "guardrail.session_authorization", true)
}

test_search_path_change_blocked if {
	d := decide(stmt(object.union(utility("SET", ["search_path_change"]), {"settings": [{"name": "search_path", "value": "evil"}]})))
	d.outcome == "blocked"
	rule_ids(d) == {"guardrail.search_path"}
}

test_harmless_setting_allowed if {
	d := decide(stmt(object.union(utility("SET", []), {"settings": [{"name": "statement_timeout", "value": "5s"}]})))
	d.outcome == "allowed"
}

test_other_setting_blocked if {
	d := decide(stmt(object.union(utility("SET", []), {"settings": [{"name": "work_mem", "value": "4GB"}]})))
	message_of(d, "guardrail.settings") == "changing setting work_mem is not allowed"
}

test_set_config_on_unknown_setting_blocked if {
	d := decide(stmt({"functions": ["pg_catalog.set_config"], "flags": ["set_config"]}))
	has_reason(d, "guardrail.settings", true)
}

test_do_block_blocked if {
	d := decide(stmt(utility("DO", ["do_block"])))
	has_reason(d, "guardrail.do_block", true)
	d.outcome == "blocked"
}

test_dynamic_sql_blocked if {
	d := decide(stmt({"flags": ["dynamic_sql"]}))
	has_reason(d, "guardrail.dynamic_sql", true)
}

test_sql_prepare_blocked if {
	d := decide(stmt(utility("PREPARE", ["prepare"])))
	has_reason(d, "guardrail.sql_prepare", true)
}

test_maintenance_blocked if {
	d := decide(stmt(object.union(utility("VACUUM", ["maintenance"]), {"objects": [{"kind": "table", "name": "public.orders"}]})))
	message_of(d, "guardrail.maintenance") == "VACUUM (table public.orders) is a maintenance command and is not allowed"
}

test_unbounded_delete_blocked if {
	d := decide(stmt(write("DELETE", "public", "orders", "delete", false)))
	d.outcome == "blocked"
	message_of(d, "guardrail.unbounded_delete") == "DELETE on public.orders has no WHERE clause and would remove every row"
}

test_delete_with_where_allowed_with_explain_limit if {
	d := decide(stmt(write("DELETE", "public", "orders", "delete", true)))
	d.outcome == "allowed"
	d.limits.explain_max_rows == 1000
}

test_unbounded_update_blocked if {
	d := decide(stmt(write("UPDATE", "public", "orders", "update", false)))
	message_of(d, "guardrail.unbounded_update") == "UPDATE on public.orders has no WHERE clause and would change every row"
}

test_no_explain_limit_for_select if {
	d := decide(base_input)
	d.limits.explain_max_rows == null
}

test_estimate_above_limit_blocked if {
	d := decide(stmt(object.union(write("UPDATE", "public", "orders", "update", true), {"estimated_rows": 5000})))
	d.outcome == "blocked"
	message_of(d, "guardrail.explain_rows") == "UPDATE on public.orders is estimated to touch 5000 rows, above the limit of 1000"
}

test_estimate_at_limit_allowed if {
	d := decide(stmt(object.union(write("UPDATE", "public", "orders", "update", true), {"estimated_rows": 1000})))
	d.outcome == "allowed"
}

test_removed_guardrail_is_off if {
	d := decide(stmt(write("DELETE", "public", "orders", "delete", false))) with data.guardrails as {}
	d.outcome == "allowed"
	d.limits.explain_max_rows == null
}

test_parse_error_blocked if {
	d := decide(stmt(utility("UNKNOWN", ["parse_error"])))
	d.outcome == "blocked"
	has_reason(d, "guardrail.parse_error", true)
}

test_parse_error_blocked_when_bundle_shadowed if {
	d := decide(stmt(utility("UNKNOWN", ["parse_error"]))) with data.enforce as false
	d.outcome == "blocked"
	has_reason(d, "guardrail.parse_error", true)
}

test_parse_error_blocked_when_its_data_says_shadow if {
	d := decide(stmt({"flags": ["parse_error"]})) with data.guardrails as {"guardrail.parse_error": {"enforce": false}}
	d.outcome == "blocked"
	has_reason(d, "guardrail.parse_error", true)
}

test_unknown_node_blocked if {
	d := decide(stmt({"flags": ["unknown_node"]}))
	has_reason(d, "guardrail.unknown_node", true)
	d.outcome == "blocked"
}

test_unknown_command_blocked if {
	d := decide(stmt(utility("UNKNOWN", [])))
	message_of(d, "guardrail.unknown_node") == "the statement (UNKNOWN) contains a construct the analyzer does not understand and is denied (fail closed)"
}

test_too_deep_blocked if {
	d := decide(stmt({"flags": ["too_deep"]})) with data.enforce as false
	d.outcome == "blocked"
	has_reason(d, "guardrail.too_deep", true)
}

test_invalid_now_blocked if {
	d := decide(at(base_input, "soon"))
	d.outcome == "blocked"
	has_reason(d, "policy.invalid_time", true)
}

test_malformed_input_blocked if {
	inp := object.remove(base_input, ["statement"])
	d := decide(inp) with data.enforce as false
	d.outcome == "blocked"
	has_reason(d, "policy.invalid_input", true)
}

test_unknown_write_action_blocked if {
	d := decide(stmt(write("UPSERT", "public", "orders", "upsert", true)))
	d.outcome == "blocked"
	message_of(d, "policy.invalid_input") == "the policy input is malformed (statement.writes[]); denied (fail closed)"
}

test_shipped_guardrails_are_configured if {
	every id in [
		"guardrail.ddl", "guardrail.truncate", "guardrail.alter_system", "guardrail.copy_program",
		"guardrail.copy_file", "guardrail.file_functions", "guardrail.server_functions",
		"guardrail.role_change", "guardrail.session_authorization", "guardrail.search_path",
		"guardrail.do_block", "guardrail.dynamic_sql", "guardrail.unbounded_delete",
		"guardrail.unbounded_update", "guardrail.explain_rows",
	] {
		data.guardrails[id].enforce == true
	}
}

test_merge_with_constant_join_is_unbounded if {
	d := decide(stmt(write("MERGE", "public", "orders", "merge", false)))
	not d.allow
	has_reason(d, "guardrail.unbounded_delete", true)
}

test_merge_with_join_condition_is_not_unbounded if {
	d := decide(stmt(write("MERGE", "public", "orders", "merge", true)))
	not "guardrail.unbounded_delete" in rule_ids(d)
}
