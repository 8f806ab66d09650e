# The one entrypoint, pgward/decision: exactly the Decision of schemas/decision.schema.json.
# Deny by default: a statement runs only when nothing enforced blocks it and every table and
# function it touches is covered by an active grant.
package pgward

decision := {
	"allow": allow,
	"outcome": outcome,
	"reasons": reasons,
	"approval": approval,
	"mask": mask,
	"grant_ids": grant_ids,
	"limits": {"max_rows": max_rows_limit, "explain_max_rows": explain_max_rows},
	"valid_until": valid_until,
}

violations contains object.union(hit, {"enforce": true}) if some hit in fail_closed_hits

violations contains object.union(hit, {"enforce": guardrail_enforced(hit.rule)}) if some hit in guardrail_hits

violations contains object.union(hit, {"enforce": bundle_enforced}) if some hit in access_hits

blocked if {
	some v in violations
	v.enforce
}

awaiting_approval if {
	not blocked
	count(enforced_triggers) > 0
	count(matching_approval_ids) == 0
}

default outcome := "blocked"

outcome := "blocked" if blocked

else := "approval_required" if awaiting_approval

else := "masked" if count(mask) > 0

else := "allowed"

default allow := false

allow if outcome == "allowed"

allow if outcome == "masked"

default approval := {"required": false, "id": null}

approval := {"required": true, "id": approval_id, "not_before": w[0], "expires_at": w[1]} if {
	not blocked
	count(enforced_triggers) > 0
	w := approval_window
}

approval := {"required": true, "id": null} if {
	not blocked
	count(enforced_triggers) > 0
	not approval_window
}

# Reasons: every violation (enforced or shadow), every shadow trigger, and the enforced triggers
# while they still wait for an approval. A blocked statement lists no enforced trigger: no
# approval could let it run.
reason_set contains v if some v in violations

reason_set contains t if {
	some t in trigger_hits
	not t.enforce
}

reason_set contains t if {
	some t in enforced_triggers
	awaiting_approval
}

reasons := sort([r | some r in reason_set])

# valid_until: the earliest instant after now at which a grant or approval of this identity for
# this database starts or stops matching; a cached decision must not outlive it.
future_changes contains x.from if {
	some x in identity_grants
	x.from > now_second
}

future_changes contains x.until if {
	some x in identity_grants
	x.until > now_second
}

future_changes contains x.from if {
	some x in identity_approvals
	x.from > now_second
}

future_changes contains x.until if {
	some x in identity_approvals
	x.until > now_second
}

default valid_until := null

valid_until := min(future_changes) if count(future_changes) > 0
