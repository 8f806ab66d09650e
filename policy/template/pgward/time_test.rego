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
