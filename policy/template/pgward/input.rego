# Accessors for the policy input (schemas/policy-input.schema.json) and the checks that make a
# malformed input fail closed instead of matching nothing and slipping through.
package pgward

# flags: the statement's flags as a set. Rules test one with a lookup (flags.ddl), which is
# constant time in the compiled policy, where `"ddl" in flags` would walk the set.
flags := {f | some f in input.statement.flags}

write_action_grants := {
	"insert": ["insert"],
	"update": ["update"],
	"delete": ["delete"],
	"merge": ["insert", "update", "delete"],
	"truncate": ["truncate"],
	"copy_from": ["copy", "insert"],
}

# needed: every (schema, table, action) the statement needs a grant for.
needed contains {"schema": r.schema, "table": r.table, "action": "select"} if {
	some r in input.statement.reads
	not implicit_catalog_read(r)
}

# implicit_catalog_read: catalog relations drivers read for metadata (types, columns) need no grant.
# Only plain reads qualify; COPY of a catalog still needs one.
implicit_catalog_read(r) if {
	not flags.copy_to_stdout
	concat(".", [r.schema, r.table]) in implicit_catalog_reads
}

needed contains {"schema": r.schema, "table": r.table, "action": "copy"} if {
	flags.copy_to_stdout
	some r in input.statement.reads
}

needed contains {"schema": w.schema, "table": w.table, "action": action} if {
	some w in input.statement.writes
	some action in write_action_grants[w.action]
}

# tables_text names every table the statement touches, for messages: " (public.a, public.b)".
default tables_text := ""

tables_text := concat("", [" (", concat(", ", sort(touched)), ")"]) if {
	touched := {qualified(r) | some r in array.concat(input.statement.reads, input.statement.writes)}
	count(touched) > 0
}

qualified(rel) := concat(".", [rel.schema, rel.table])

# objects_text names the objects a utility statement acts on, for messages: " (table public.a)".
default objects_text := ""

objects_text := concat("", [" (", concat(", ", named), ")"]) if {
	named := [concat(" ", [o.kind, o.name]) | some o in input.statement.objects]
	count(named) > 0
}

# input_well_formed: every field the decision depends on has the right type. Checked as one
# positive rule (cheap on the hot path); the problem list below is built only when it fails.
input_well_formed if {
	is_string(input.identity.sub)
	is_array(input.identity.groups)
	is_string(input.session.database)
	is_string(input.statement.sha256)
	is_string(input.statement.command)
	is_array(input.statement.reads)
	is_array(input.statement.writes)
	is_array(input.statement.functions)
	is_array(input.statement.flags)
	every r in input.statement.reads {
		valid_read(r)
	}
	every w in input.statement.writes {
		valid_write(w)
	}
	every f in input.statement.functions {
		is_string(f)
	}
}

# Fields the decision depends on, for the message. (A set difference: `not is_string(input.x)`
# is undefined, not true, when input.x is missing.)
required_fields := {
	"identity.sub", "identity.groups", "session.database", "statement.sha256", "statement.command",
	"statement.reads", "statement.writes", "statement.functions", "statement.flags",
}

well_typed contains "identity.sub" if is_string(input.identity.sub)

well_typed contains "identity.groups" if is_array(input.identity.groups)

well_typed contains "session.database" if is_string(input.session.database)

well_typed contains "statement.sha256" if is_string(input.statement.sha256)

well_typed contains "statement.command" if is_string(input.statement.command)

well_typed contains concat(".", ["statement", field]) if {
	some field in ["reads", "writes", "functions", "flags"]
	is_array(input.statement[field])
}

input_problems contains field if {
	not input_well_formed
	some field in required_fields
	not well_typed[field]
}

input_problems contains "statement.reads[]" if {
	not input_well_formed
	some r in input.statement.reads
	not valid_read(r)
}

input_problems contains "statement.writes[]" if {
	not input_well_formed
	some w in input.statement.writes
	not valid_write(w)
}

input_problems contains "statement.functions[]" if {
	not input_well_formed
	some f in input.statement.functions
	not is_string(f)
}

valid_read(r) if {
	is_string(r.schema)
	is_string(r.table)
	is_array(r.columns)
}

valid_write(w) if {
	is_string(w.schema)
	is_string(w.table)
	is_boolean(w.has_where)
	write_action_grants[w.action]
}
