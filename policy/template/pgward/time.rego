# Time at second precision as canonical UTC strings ("2026-11-24T11:00:00Z"): fixed-width digits
# sort chronologically, so windows compare as strings with no parsing. Only builtins that OPA
# compiles natively into WASM are used (time.parse_rfc3339_ns would need a host implementation
# in opa-wasm, and regex.match recompiles its pattern on every call).
package pgward

digits_to_zero := {"1": "0", "2": "0", "3": "0", "4": "0", "5": "0", "6": "0", "7": "0", "8": "0", "9": "0"}

second_shape := "0000-00-00T00:00:00Z"

# utc_second(ts) is ts when it is a canonical UTC timestamp with whole seconds, the form the
# grant and approval schemas require; undefined otherwise, so a malformed window never matches.
utc_second(ts) := ts if {
	is_string(ts)
	strings.replace_n(digits_to_zero, ts) == second_shape
}

# utc_window(from, until) is {"from": from, "until": until} when both are utc_second timestamps;
# one shape check for the pair (a "/" can only sit between two 20-character timestamps).
utc_window(from, until) := {"from": from, "until": until} if {
	is_string(from)
	is_string(until)
	strings.replace_n(digits_to_zero, concat("/", [from, until])) == "0000-00-00T00:00:00Z/0000-00-00T00:00:00Z"
}

# now_second is input.now truncated to the second in the same form. input.now must be UTC
# ("Z", as Date.prototype.toISOString writes it), with or without a fraction of digits;
# anything else leaves now_second undefined and the decision fails closed with
# policy.invalid_time. Every digit of the shape is 0, so one replacement checks the whole text.
now_second := concat("", [substring(input.now, 0, 19), "Z"]) if {
	is_string(input.now)
	utc_now_shape(strings.replace_n(digits_to_zero, input.now))
}

utc_now_shape(shape) if shape == second_shape

# A fraction: "." then one digit or more before the "Z".
utc_now_shape(shape) if {
	startswith(shape, "0000-00-00T00:00:00.0")
	trim_left(substring(shape, 20, -1), "0") == "Z"
}
