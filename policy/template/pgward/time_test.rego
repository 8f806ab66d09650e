package pgward_test

import data.pgward

test_utc_second_accepts_canonical if pgward.utc_second("2026-11-24T11:00:00Z") == "2026-11-24T11:00:00Z"

test_utc_second_rejects_fraction if not pgward.utc_second("2026-11-24T11:00:00.5Z")

test_utc_second_rejects_offset if not pgward.utc_second("2026-11-24T11:00:00+01:00")

test_utc_second_rejects_text if not pgward.utc_second("next week")

test_utc_second_rejects_non_string if not pgward.utc_second(1795518000)

test_now_second_truncates_milliseconds if {
	pgward.now_second == "2026-11-24T11:00:00Z" with input as {"now": "2026-11-24T11:00:00.999Z"}
}

test_now_second_accepts_whole_seconds if {
	pgward.now_second == "2026-11-24T11:00:00Z" with input as {"now": "2026-11-24T11:00:00Z"}
}

test_now_second_accepts_microseconds if {
	pgward.now_second == "2026-11-24T11:00:00Z" with input as {"now": "2026-11-24T11:00:00.123456Z"}
}

test_now_second_rejects_offset if not pgward.now_second with input as {"now": "2026-11-24T12:00:00+01:00"}

test_now_second_rejects_letters_in_digits if not pgward.now_second with input as {"now": "2026-11-2AT11:00:00Z"}

test_now_second_rejects_bad_fraction if not pgward.now_second with input as {"now": "2026-11-24T11:00:00.1x3Z"}

test_now_second_rejects_empty_fraction if not pgward.now_second with input as {"now": "2026-11-24T11:00:00.Z"}

test_now_second_rejects_missing_zone if not pgward.now_second with input as {"now": "2026-11-24T11:00:00"}

test_now_second_rejects_number if not pgward.now_second with input as {"now": 1795518000}

test_utc_window_accepts_two_canonical_timestamps if {
	pgward.utc_window("2026-11-24T09:00:00Z", "2026-11-24T12:00:00Z") == {"from": "2026-11-24T09:00:00Z", "until": "2026-11-24T12:00:00Z"}
}

test_utc_window_rejects_a_malformed_bound if {
	not pgward.utc_window("2026-11-24T09:00:00Z", "2026-11-24T12:00:00.5Z")
	not pgward.utc_window("2026-11-24 09:00:00Z", "2026-11-24T12:00:00Z")
	not pgward.utc_window("2026-11-24T09:00:00Z", 1795518000)
	not pgward.utc_window(null, "2026-11-24T12:00:00Z")
}

# The pair is checked as one text: a separator moved into either bound must not line up.
test_utc_window_rejects_bounds_that_only_line_up_together if {
	not pgward.utc_window("2026-11-24T09:00:00Z/2026-11-24T12:00:00Z", "")
	not pgward.utc_window("", "2026-11-24T09:00:00Z/2026-11-24T12:00:00Z")
	not pgward.utc_window("2026-11-24T09:00:0", "0Z/2026-11-24T12:00:00Z")
}

test_utc_window_agrees_with_utc_second if {
	every ts in ["2026-11-24T09:00:00Z", "2026-11-24T09:00:00", "2026-1-24T09:00:00Z", "٢٠٢٦-11-24T09:00:00Z", "2026-11-24t09:00:00Z"] {
		window_accepts(ts) == second_accepts(ts)
	}
}

window_accepts(ts) if pgward.utc_window(ts, "2026-11-24T12:00:00Z")

else := false

second_accepts(ts) if pgward.utc_second(ts)

else := false

test_now_second_accepts_one_fraction_digit if {
	pgward.now_second == "2026-11-24T11:00:00Z" with input as {"now": "2026-11-24T11:00:00.0Z"}
}

test_now_second_rejects_two_fractions if not pgward.now_second with input as {"now": "2026-11-24T11:00:00.5.5Z"}

test_now_second_rejects_a_lower_case_zone if not pgward.now_second with input as {"now": "2026-11-24T11:00:00.000z"}

test_now_second_rejects_trailing_text if not pgward.now_second with input as {"now": "2026-11-24T11:00:00.000Z1"}
