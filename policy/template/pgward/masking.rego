# Masking plan: every column the statement reads that data.masking names, minus the columns an
# active grant exempts. Masking is applied even when the bundle is shadowed.
package pgward

mask[column] := method if {
	some r in input.statement.reads
	some c in r.columns
	c != "*"
	column := concat(".", [r.schema, r.table, c])
	method := masking[column]
	not mask_exempt[column]
}

mask[column] := method if {
	some r in input.statement.reads
	"*" in r.columns
	prefix := concat("", [r.schema, ".", r.table, "."])
	some column, method in masking
	startswith(column, prefix)
	not mask_exempt[column]
}

# Inference protection: a predicate (WHERE, JOIN, GROUP BY, HAVING, ORDER BY, window, DISTINCT,
# FILTER, LIMIT, the outputs INTERSECT, EXCEPT and UNION compare) on a masked column tells the
# client its values without ever sending them (WHERE ssn LIKE '1%'). data.masking_inference_protection says, per masking method, whether such
# statements are denied; methods it leaves out keep the default (on for redact and null, whose
# values are meant to stay unknown; off for hash, partial and email, which keep joins and domains).
# Like masking, it holds even when the bundle is shadowed.
default_inference_protection := {"redact": true, "null": true, "hash": false, "partial": false, "email": false}

inference_protection := object.union(default_inference_protection, data.masking_inference_protection) if {
	is_object(data.masking_inference_protection)
} else := default_inference_protection

# predicate_masks: [column, method] for each masked column a predicate names ('schema.table.*'
# names every column of the table), minus the columns an active grant exempts.
predicate_masks contains [column, method] if {
	some column in object.get(input.statement, "predicate_columns", [])
	not endswith(column, ".*")
	method := masking[column]
	not mask_exempt[column]
}

predicate_masks contains [column, method] if {
	some p in object.get(input.statement, "predicate_columns", [])
	endswith(p, ".*")
	prefix := trim_suffix(p, "*")
	some column, method in masking
	startswith(column, prefix)
	not mask_exempt[column]
}

inference_hits contains {"rule": "masking.inference", "message": msg} if {
	some pm in predicate_masks
	[column, method] := pm
	inference_protection[method] == true
	msg := concat("", [
		input.statement.command, " filters, joins, groups or orders by ", column,
		", which is masked (", method, "); such a predicate would reveal the values masking hides",
	])
}

violations contains object.union(hit, {"enforce": true}) if some hit in inference_hits
