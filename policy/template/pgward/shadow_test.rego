package pgward_test

test_shadow_guardrail_allows_and_reports if {
	d := decide(stmt(write("DELETE", "public", "orders", "delete", false))) with data.guardrails["guardrail.unbounded_delete"].enforce as false
	d.allow == true
	d.outcome == "allowed"
	has_reason(d, "guardrail.unbounded_delete", false)
}

test_shadow_guardrail_next_to_enforced_one_still_blocks if {
	inp := stmt(object.union(write("DELETE", "public", "orders", "delete", false), {"flags": ["do_block"]}))
	d := decide(inp) with data.guardrails["guardrail.unbounded_delete"].enforce as false
	d.outcome == "blocked"
	has_reason(d, "guardrail.unbounded_delete", false)
	has_reason(d, "guardrail.do_block", true)
}

test_bundle_shadow_allows_without_grant_and_reports if {
	d := decide(as_who(base_input, "mallory", [])) with data.enforce as false
	d.outcome == "allowed"
	has_reason(d, "access.no_grant", false)
}

test_bundle_shadow_reports_guardrails_as_shadow if {
	d := decide(stmt(utility("DROP TABLE", ["ddl"]))) with data.enforce as false
	d.allow == true
	has_reason(d, "guardrail.ddl", false)
}

test_bundle_shadow_still_masks if {
	d := decide(stmt(reads("public", "customers", ["email"]))) with data.enforce as false
	d.outcome == "masked"
	d.mask == {"public.customers.email": "email"}
}

test_bundle_shadow_drops_the_explain_limit if {
	d := decide(stmt(write("DELETE", "public", "orders", "delete", true))) with data.enforce as false
	d.limits.explain_max_rows == null
}

test_bundle_shadow_turns_triggers_into_reports if {
	d := decide(ops_delete) with data.enforce as false
	d.outcome == "allowed"
	d.approval == {"required": false, "id": null}
	has_reason(d, "approval.ops_delete", false)
}
