# Time at second precision as canonical UTC strings ("2026-11-24T11:00:00Z"): fixed-width digits
# sort chronologically, so windows compare as strings with no parsing. Only builtins that OPA
# compiles natively into WASM are used (time.parse_rfc3339_ns would need a host implementation
# in opa-wasm, and regex.match recompiles its pattern on every call).
package pgward

digits_to_zero := {"1": "0", "2": "0", "3": "0", "4": "0", "5": "0", "6": "0", "7": "0", "8": "0", "9": "0"}

second_shape := "0000-00-00T00:00:00"

# utc_second(ts) is ts when it is a canonical UTC timestamp with whole seconds, the form the
# grant and approval schemas require; undefined otherwise, so a malformed window never matches.
utc_second(ts) := ts if {
	is_string(ts)
	strings.replace_n(digits_to_zero, ts) == "0000-00-00T00:00:00Z"
}

# now_second is input.now truncated to the second in the same form. input.now must be UTC
# ("Z", as Date.prototype.toISOString writes it); anything else leaves now_second undefined and
# the decision fails closed with policy.invalid_time.
now_second := concat("", [head, "Z"]) if {
	is_string(input.now)
	head := substring(input.now, 0, 19)
	strings.replace_n(digits_to_zero, head) == second_shape
	utc_fraction_and_zone(substring(input.now, 19, count(input.now) - 19))
}

utc_fraction_and_zone(rest) if rest == "Z"

utc_fraction_and_zone(rest) if {
	count(rest) > 2
	startswith(rest, ".")
	endswith(rest, "Z")
	trim(substring(rest, 1, count(rest) - 2), "0123456789") == ""
}
