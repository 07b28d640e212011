//! One textual form for instants, so stored times sort as text and hash the same everywhere.
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Formats an instant as UTC RFC 3339 with exactly six fractional digits
/// (`2026-11-23T10:00:00.000000Z`). Fixed width means lexical order is time order.
pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Parses any RFC 3339 instant.
pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn format_is_fixed_width_utc_and_parses_back() {
        let t = datetime!(2026-01-02 03:04:05.123456 +02:00);
        let s = format(t);
        assert_eq!(s, "2026-01-02T01:04:05.123456Z");
        assert_eq!(parse(&s).unwrap(), t);
    }
}
