package pgward_test

import data.pgward

test_decision_has_exactly_the_contract_fields if {
	d := decide(base_input)
	object.keys(d) == {"allow", "outcome", "reasons", "approval", "mask", "grant_ids", "limits", "valid_until"}
	object.keys(d.limits) == {"max_rows", "explain_max_rows"}
}

test_decision_is_defined_with_no_data if {
	d := pgward.decision with input as base_input with data.grants as [] with data.guardrails as {}
	d.outcome == "blocked"
	d.allow == false
}

test_decision_is_defined_with_empty_input if {
	d := pgward.decision with input as {}
	d.outcome == "blocked"
	has_reason(d, "policy.invalid_input", true)
}

test_blocked_reasons_are_all_listed if {
	inp := stmt(object.union(write("DELETE", "public", "secrets", "delete", false), {"flags": ["do_block"]}))
	d := decide(inp)
	rule_ids(d) == {"guardrail.unbounded_delete", "guardrail.do_block", "access.table"}
}

test_empty_statement_allowed if {
	d := decide(stmt(utility("", ["empty"])))
	d.outcome == "allowed"
}

test_every_reason_rule_is_a_dotted_id if {
	d := decide(stmt(object.union(write("DELETE", "public", "secrets", "delete", false), {"flags": ["do_block", "too_deep"]})))
	every r in d.reasons {
		regex.match(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`, r.rule)
	}
}
