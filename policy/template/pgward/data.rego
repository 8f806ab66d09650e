# The rule data (schemas/policy-data.schema.json) with safe defaults, so a missing section means
# "nothing configured" and never an undefined decision.
package pgward

default grants := []

grants := data.grants

default approvals := []

approvals := data.approvals

default approval_triggers := []

approval_triggers := data.approval_triggers

default guardrails := {}

guardrails := data.guardrails

default masking := {}

masking := data.masking

default implicit_function_schemas := ["pg_catalog"]

implicit_function_schemas := data.implicit_function_schemas

default implicit_catalog_reads := []

implicit_catalog_reads := data.implicit_catalog_reads

# bundle_enforced is false when the data shadows the whole bundle (top-level "enforce": false):
# every rule is then recorded with enforce:false and nothing blocks, except the fail-closed
# checks and masking, which are always applied.
default bundle_enforced := true

bundle_enforced := false if data.enforce == false
