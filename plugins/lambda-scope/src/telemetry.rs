//! What the telemetry steps share: the request's arguments, and times as the
//! platform reads them.

/// `YYYY-MM-DDTHH:MM:SSZ` for milliseconds since the Unix epoch (seconds precision,
/// as the incumbent printed them).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` for seconds since the Unix epoch (the metric
/// answer's timestamps, as the AWS CLI printed them).
pub fn iso8601_offset(secs: u64) -> String {
    let mut text = iso8601(secs.saturating_mul(1000));
    text.pop();
    text + "+00:00"
}

/// Seconds since the Unix epoch of an ISO-8601 date-time: `YYYY-MM-DDTHH:MM:SS`,
/// optional fraction (dropped), then `Z` or `±HH:MM`; a space may stand for the
/// `T`. The error says what was expected.
pub fn parse_iso8601(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not an ISO-8601 date-time such as 2026-08-07T18:00:00Z");
    let b = text.trim().as_bytes();
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let field = |from: usize, to: usize| -> Result<i64, String> {
        let digits = &b[from..to];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hm = [*h1, *h2, *m1, *m2];
            if !hm.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let minutes =
                i64::from(hm[0] - b'0') * 600 + i64::from(hm[1] - b'0') * 60 + i64::from(hm[2] - b'0') * 10 + i64::from(hm[3] - b'0');
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return Err(format!("{} (it needs a zone: Z or ±HH:MM)", bad())),
    };
    let secs = days_from_civil(year, month as u32, day as u32) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).map_err(|_| format!("{text:?} is before 1970"))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, the inverse of `civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A whole number given as a JSON number or a string of digits.
pub fn number(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_the_platform_reads_them() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_786_125_601_000), "2026-08-07T18:00:01Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_offset(1_786_125_600), "2026-08-07T18:00:00+00:00");
    }

    #[test]
    fn iso_dates_parse_back_to_the_same_second() {
        for secs in [0u64, 951_782_400, 1_786_125_601, 4_102_444_799] {
            assert_eq!(parse_iso8601(&iso8601(secs * 1000)), Ok(secs));
            assert_eq!(parse_iso8601(&iso8601_offset(secs)), Ok(secs));
        }
        assert_eq!(parse_iso8601("2026-08-07T20:00:00.123+02:00"), Ok(1_786_125_600));
        assert_eq!(parse_iso8601("2026-08-07 18:00:00z"), Ok(1_786_125_600));
    }

    #[test]
    fn malformed_dates_say_what_was_expected() {
        for bad in [
            "",
            "2026-08-07",
            "2026-02-30T00:00:00Z",
            "2026-08-07T18:00:00",
            "2026-08-07T24:00:00Z",
            "x026-08-07T18:00:00Z",
            "2026-08-07T18:00:00+2:00",
            "1969-12-31T23:59:59Z",
        ] {
            let e = parse_iso8601(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(parse_iso8601("2026-08-07T18:00:00").unwrap_err().contains("needs a zone"));
    }
}
