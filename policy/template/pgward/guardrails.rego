# Guardrails: statement shapes refused whatever the grants say. Each is configured in
# data.guardrails by id (absent = off) with an enforce flag (false = shadow: reported, not
# enforced). The fail-closed checks at the end are built in and always enforced.
package pgward

configured(id) if guardrails[id]

guardrail_enforced(id) if {
	bundle_enforced
	object.get(guardrails[id], "enforce", true) != false
} else := false

guardrail_hits contains {"rule": "guardrail.ddl", "message": msg} if {
	some f in ["ddl", "create_table_as", "select_into"]
	flags[f]
	configured("guardrail.ddl")
	msg := concat("", [input.statement.command, objects_text, tables_text, " is DDL; schema changes go through migrations, not the gateway"])
}

guardrail_hits contains {"rule": "guardrail.truncate", "message": msg} if {
	some w in input.statement.writes
	w.action == "truncate"
	configured("guardrail.truncate")
	msg := concat("", ["TRUNCATE of ", qualified(w), " is not allowed"])
}

guardrail_hits contains {"rule": "guardrail.truncate", "message": "TRUNCATE is not allowed"} if {
	input.statement.command == "TRUNCATE"
	configured("guardrail.truncate")
	not any_write_action("truncate")
}

any_write_action(action) if {
	some w in input.statement.writes
	w.action == action
}

guardrail_hits contains {"rule": "guardrail.alter_system", "message": "ALTER SYSTEM changes the server configuration and is not allowed"} if {
	flags.alter_system
	configured("guardrail.alter_system")
}

guardrail_hits contains {"rule": "guardrail.copy_program", "message": msg} if {
	flags.copy_program
	configured("guardrail.copy_program")
	msg := concat("", ["COPY", tables_text, " with PROGRAM runs a shell command on the database server"])
}

guardrail_hits contains {"rule": "guardrail.copy_file", "message": msg} if {
	flags.copy_file
	configured("guardrail.copy_file")
	msg := concat("", ["COPY", tables_text, " to or from a server file is not allowed; use COPY TO STDOUT or FROM STDIN"])
}

guardrail_hits contains {"rule": "guardrail.file_functions", "message": msg} if {
	some f, name in called_functions
	listed_functions["guardrail.file_functions"][name]
	msg := concat("", ["function ", f, " reads or writes files on the database server"])
}

guardrail_hits contains {"rule": "guardrail.file_functions", "message": "a function that reads or writes server files is called"} if {
	flags.file_function
	configured("guardrail.file_functions")
	not listed_function_called("guardrail.file_functions")
}

guardrail_hits contains {"rule": "guardrail.server_functions", "message": msg} if {
	some f, name in called_functions
	listed_functions["guardrail.server_functions"][name]
	msg := concat("", ["function ", f, " acts on the server, other sessions or other databases"])
}

guardrail_hits contains {"rule": "guardrail.server_functions", "message": "a function that acts on the server or other sessions is called"} if {
	flags.server_function
	configured("guardrail.server_functions")
	not listed_function_called("guardrail.server_functions")
}

listed_function_called(id) if {
	some name in called_functions
	listed_functions[id][name]
}

guardrail_hits contains {"rule": "guardrail.role_change", "message": msg} if {
	flags.role_change
	configured("guardrail.role_change")
	msg := concat("", [input.statement.command, objects_text, " changes roles, which is not allowed"])
}

guardrail_hits contains {"rule": "guardrail.grant_revoke", "message": msg} if {
	flags.grant_revoke
	configured("guardrail.grant_revoke")
	msg := concat("", [input.statement.command, objects_text, " changes privileges, which is not allowed"])
}

guardrail_hits contains {"rule": "guardrail.session_authorization", "message": "SET SESSION AUTHORIZATION is not allowed"} if {
	flags.session_authorization
	configured("guardrail.session_authorization")
}

guardrail_hits contains {"rule": "guardrail.search_path", "message": "changing search_path is not allowed; schema-qualify names instead"} if {
	flags.search_path_change
	configured("guardrail.search_path")
}

# Settings the other guardrails already judge; the settings guardrail leaves them to those.
settings_judged_elsewhere := {"search_path", "role", "session_authorization"}

guardrail_hits contains {"rule": "guardrail.settings", "message": msg} if {
	some s in input.statement.settings
	configured("guardrail.settings")
	name := lower(s.name)
	not settings_judged_elsewhere[name]
	not name in guardrails["guardrail.settings"].allowed
	msg := concat("", ["changing setting ", name, " is not allowed"])
}

guardrail_hits contains {"rule": "guardrail.settings", "message": "set_config() on a setting the gateway cannot see is not allowed"} if {
	flags.set_config
	configured("guardrail.settings")
	count(object.get(input.statement, "settings", [])) == 0
}

guardrail_hits contains {"rule": "guardrail.do_block", "message": "DO blocks run procedural code the gateway cannot inspect"} if {
	flags.do_block
	configured("guardrail.do_block")
}

guardrail_hits contains {"rule": "guardrail.dynamic_sql", "message": "dynamic SQL cannot be inspected by the gateway"} if {
	flags.dynamic_sql
	configured("guardrail.dynamic_sql")
}

guardrail_hits contains {"rule": "guardrail.sql_prepare", "message": msg} if {
	some f in ["prepare", "execute"]
	flags[f]
	configured("guardrail.sql_prepare")
	msg := concat("", ["SQL-level ", input.statement.command, " hides the statement that runs; use the extended protocol instead"])
}

guardrail_hits contains {"rule": "guardrail.maintenance", "message": msg} if {
	flags.maintenance
	configured("guardrail.maintenance")
	msg := concat("", [input.statement.command, objects_text, tables_text, " is a maintenance command and is not allowed"])
}

guardrail_hits contains {"rule": "guardrail.unbounded_delete", "message": msg} if {
	some w in input.statement.writes
	w.has_where == false
	w.action == "delete"
	configured("guardrail.unbounded_delete")
	msg := concat("", ["DELETE on ", qualified(w), " has no WHERE clause and would remove every row"])
}

# A MERGE whose join condition is a constant (ON true) matches every target row: its WHEN MATCHED
# actions would update or delete the whole table.
guardrail_hits contains {"rule": "guardrail.unbounded_delete", "message": msg} if {
	some w in input.statement.writes
	w.has_where == false
	w.action == "merge"
	configured("guardrail.unbounded_delete")
	msg := concat("", ["MERGE into ", qualified(w), " has a constant join condition and would touch every row"])
}

guardrail_hits contains {"rule": "guardrail.unbounded_update", "message": msg} if {
	some w in input.statement.writes
	w.has_where == false
	w.action == "update"
	configured("guardrail.unbounded_update")
	msg := concat("", ["UPDATE on ", qualified(w), " has no WHERE clause and would change every row"])
}

# The row-estimate guardrail needs the database's opinion: the decision carries the limit in
# limits.explain_max_rows and the gateway runs EXPLAIN; when the input already carries an
# estimate, the policy judges it here.
guardrail_hits contains {"rule": "guardrail.explain_rows", "message": msg} if {
	estimate := input.statement.estimated_rows
	is_number(estimate)
	limit := guardrails["guardrail.explain_rows"].max_rows
	estimate > limit
	some w in input.statement.writes
	w.action in guardrails["guardrail.explain_rows"].actions
	msg := concat("", [
		upper(w.action), " on ", qualified(w), " is estimated to touch ", format_int(estimate, 10),
		" rows, above the limit of ", format_int(limit, 10),
	])
}

default explain_max_rows := null

explain_max_rows := cfg.max_rows if {
	some w in input.statement.writes
	cfg := guardrails["guardrail.explain_rows"]
	w.action in cfg.actions
	guardrail_enforced("guardrail.explain_rows")
}

# Fail closed, always enforced: what the analyzer could not understand, and malformed input.
fail_closed_hits contains {"rule": "guardrail.parse_error", "message": "the statement could not be parsed and is denied (fail closed)"} if {
	flags.parse_error
}

fail_closed_hits contains {"rule": "guardrail.unknown_node", "message": unknown_message} if flags.unknown_node

fail_closed_hits contains {"rule": "guardrail.unknown_node", "message": unknown_message} if input.statement.command == "UNKNOWN"

unknown_message := concat("", [
	"the statement (", input.statement.command,
	") contains a construct the analyzer does not understand and is denied (fail closed)",
])

fail_closed_hits contains {"rule": "guardrail.too_deep", "message": "the statement is nested too deeply to analyze and is denied (fail closed)"} if {
	flags.too_deep
}

fail_closed_hits contains {"rule": "policy.invalid_time", "message": "input.now is not a UTC RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fff]Z); denied (fail closed)"} if {
	not now_second
}

fail_closed_hits contains {"rule": "policy.invalid_input", "message": msg} if {
	not input_well_formed
	msg := concat("", ["the policy input is malformed (", concat(", ", sort(input_problems)), "); denied (fail closed)"])
}
