//! Keystone's timestamps (`2026-12-01T11:30:00.000000Z`) as seconds since the epoch, enough to
//! know how long a token lives without a date library.

/// Seconds since 1970-01-01T00:00:00Z of an ISO 8601 UTC timestamp; None when it is not one.
pub(crate) fn epoch_seconds(timestamp: &str) -> Option<i64> {
    let t = timestamp.trim();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = t.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if t.get(4..5)? != "-" || t.get(7..8)? != "-" || !matches!(t.get(10..11)?, "T" | " ") {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // a zone other than UTC ("+01:00") is not what Keystone writes
    let zone = t
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if !matches!(zone, "" | "Z" | "+00:00") {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystone_timestamps() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            epoch_seconds("2000-03-01T00:00:00.000000Z"),
            Some(951_868_800)
        );
        assert_eq!(
            epoch_seconds("2026-12-01T11:30:05.123456Z"),
            Some(1_796_124_605)
        );
        assert_eq!(
            epoch_seconds("2026-12-01T11:30:05+00:00"),
            Some(1_796_124_605)
        );
        assert_eq!(epoch_seconds("2026-12-01T11:30:05+01:00"), None);
        assert_eq!(epoch_seconds("yesterday"), None);
        assert_eq!(epoch_seconds("2026-13-01T00:00:00Z"), None);
    }
}
