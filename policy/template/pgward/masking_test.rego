package pgward_test

test_mask_plan_for_columns_read if {
	d := decide(stmt(reads("public", "customers", ["id", "email", "ssn"])))
	d.allow == true
	d.outcome == "masked"
	d.mask == {"public.customers.email": "email", "public.customers.ssn": "redact"}
}

test_star_masks_every_rule_of_the_table if {
	d := decide(stmt(reads("public", "customers", ["*"])))
	d.mask == {
		"public.customers.email": "email",
		"public.customers.ssn": "redact",
		"public.customers.phone": "partial",
		"public.customers.date_of_birth": "null",
	}
}

test_unmasked_columns_give_allowed if {
	d := decide(stmt(reads("public", "customers", ["id", "name"])))
	d.outcome == "allowed"
	d.mask == {}
}

test_mask_exempt_is_honoured if {
	d := decide(as_who(stmt(reads("public", "customers", ["email", "ssn"])), "alice", []))
	d.outcome == "masked"
	d.mask == {"public.customers.ssn": "redact"}
}

test_mask_exempt_of_another_identity_does_not_apply if {
	d := decide(stmt(reads("public", "customers", ["email"])))
	d.mask == {"public.customers.email": "email"}
}

test_mask_exempt_alone_gives_allowed if {
	d := decide(as_who(stmt(reads("public", "customers", ["id", "email"])), "alice", []))
	d.outcome == "allowed"
	d.mask == {}
}

# Inference protection (data.masking_inference_protection; template default: redact and null on).

preds(columns) := {"reads": [{"schema": "public", "table": "customers", "columns": ["id"]}], "predicate_columns": columns}

test_inference_predicate_on_redacted_column_is_denied if {
	d := decide(stmt(preds(["public.customers.ssn"])))
	d.allow == false
	d.outcome == "blocked"
	has_reason(d, "masking.inference", true)
	message_of(d, "masking.inference") == "SELECT filters, joins, groups or orders by public.customers.ssn, which is masked (redact); such a predicate would reveal the values masking hides"
}

test_inference_predicate_on_nulled_column_is_denied if {
	d := decide(stmt(preds(["public.customers.date_of_birth", "public.customers.id"])))
	d.outcome == "blocked"
	contains(message_of(d, "masking.inference"), "public.customers.date_of_birth, which is masked (null)")
}

test_inference_off_by_default_for_email_partial_and_hash if {
	d := decide(stmt(preds(["public.customers.email", "public.customers.phone"])))
	d.allow == true
	not "masking.inference" in rule_ids(d)
	h := decide(stmt({
		"reads": [{"schema": "public", "table": "orders", "columns": ["id"]}],
		"predicate_columns": ["public.orders.card_token"],
	}))
	h.allow == true
	not "masking.inference" in rule_ids(h)
}

test_inference_predicate_on_unmasked_column_is_allowed if {
	d := decide(stmt(preds(["public.customers.id", "public.customers.name"])))
	d.outcome == "allowed"
	count(d.reasons) == 0
}

test_inference_without_predicate_columns_is_allowed if {
	d := decide(stmt(reads("public", "customers", ["ssn"])))
	d.outcome == "masked"
	not "masking.inference" in rule_ids(d)
}

test_inference_option_turns_a_method_on if {
	d := decide(stmt(preds(["public.customers.email"]))) with data.masking_inference_protection as {"email": true}
	d.outcome == "blocked"
	contains(message_of(d, "masking.inference"), "public.customers.email, which is masked (email)")
}

test_inference_option_turns_a_method_off_and_keeps_the_other_defaults if {
	off := decide(stmt(preds(["public.customers.ssn"]))) with data.masking_inference_protection as {"redact": false}
	off.allow == true
	not "masking.inference" in rule_ids(off)
	still := decide(stmt(preds(["public.customers.date_of_birth"]))) with data.masking_inference_protection as {"redact": false}
	still.outcome == "blocked"
}

test_inference_defaults_without_the_option if {
	d := decide(stmt(preds(["public.customers.ssn"]))) with data.masking_inference_protection as null
	d.outcome == "blocked"
	e := decide(stmt(preds(["public.customers.email"]))) with data.masking_inference_protection as null
	e.allow == true
}

test_inference_whole_table_predicate_names_every_protected_column if {
	d := decide(stmt(preds(["public.customers.*"])))
	d.outcome == "blocked"
	messages := {r.message | some r in d.reasons; r.rule == "masking.inference"}
	count(messages) == 2
	some m in messages
	contains(m, "public.customers.ssn")
	some n in messages
	contains(n, "public.customers.date_of_birth")
}

test_inference_mask_exempt_column_is_not_protected if {
	inp := as_who(stmt(preds(["public.customers.email"])), "alice", [])
	d := decide(inp) with data.masking_inference_protection as {"email": true}
	d.allow == true
	not "masking.inference" in rule_ids(d)
	e := decide(as_who(stmt(preds(["public.customers.ssn"])), "alice", []))
	e.outcome == "blocked"
}

test_inference_holds_when_the_bundle_is_shadowed if {
	d := decide(stmt(preds(["public.customers.ssn"]))) with data.enforce as false
	d.allow == false
	has_reason(d, "masking.inference", true)
}

test_inference_names_the_command if {
	d := decide(stmt(object.union(write("UPDATE", "public", "customers", "update", true), {"predicate_columns": ["public.customers.ssn"]})))
	startswith(message_of(d, "masking.inference"), "UPDATE filters, joins, groups or orders by public.customers.ssn")
}
