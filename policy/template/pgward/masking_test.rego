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
