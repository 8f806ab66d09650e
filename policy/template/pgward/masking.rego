# Masking plan: every column the statement reads that data.masking names, minus the columns an
# active grant exempts. Masking is applied even when the bundle is shadowed.
package pgward

mask[column] := method if {
	some r in input.statement.reads
	some c in r.columns
	c != "*"
	column := concat(".", [r.schema, r.table, c])
	method := masking[column]
	not column in mask_exempt
}

mask[column] := method if {
	some r in input.statement.reads
	"*" in r.columns
	prefix := concat("", [r.schema, ".", r.table, "."])
	some column, method in masking
	startswith(column, prefix)
	not column in mask_exempt
}
