//! Shared reading: what the bytes are (JSON text, CSV text, or something else), CSV tables
//! with row and column places, a JSON cursor that knows its path, and dates.
use crate::ImportError;
use serde_json::Value;

pub(crate) enum Sniffed<'a> {
    Json(&'a str),
    Csv(&'a str),
}

/// Checks that the bytes are UTF-8 text (a leading BOM is dropped) and says whether they look
/// like JSON (first character `{` or `[`) or otherwise CSV.
pub(crate) fn sniff(bytes: &[u8]) -> Result<Sniffed<'_>, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::file("the file is empty"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(ImportError::file(
            "this looks like a ZIP archive or an XLSX workbook: export it as CSV (UTF-8) or JSON first",
        ));
    }
    if bytes.starts_with(b"\x1F\x8B") {
        return Err(ImportError::file(
            "this is gzip-compressed: decompress it first",
        ));
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ImportError::file("this is a PDF document, not CSV or JSON"));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ImportError::file(
            "this file is UTF-16 text; save it as UTF-8",
        ));
    }
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if head.contains(&0) || controls * 20 > head.len() {
        return Err(ImportError::file(
            "this looks like a binary file, not CSV or JSON text",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let upto = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = 1 + upto.iter().filter(|b| **b == b'\n').count();
        ImportError::new(
            format!("line {line}"),
            "the file is not UTF-8 text; save it as UTF-8",
        )
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) {
        Ok(Sniffed::Json(text))
    } else {
        Ok(Sniffed::Csv(text))
    }
}

/// Parses JSON, naming the line and column of a syntax error.
pub(crate) fn parse_json(text: &str) -> Result<Value, ImportError> {
    serde_json::from_str(text).map_err(|e| {
        let place = format!("line {}, column {}", e.line(), e.column());
        let message = if e.is_eof() {
            "the JSON ends too early: is the file truncated?".to_string()
        } else {
            let s = e.to_string();
            match s.rfind(" at line ") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        };
        ImportError::new(place, format!("not valid JSON: {message}"))
    })
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A header cell as a key: lower case, `#` read as "number", every run of other characters
/// (spaces, hyphens, slashes) one `_`: `Employee #` → `employee_number`, `Work Email` →
/// `work_email`.
pub(crate) fn normalize_key(s: &str) -> String {
    let s = s.trim().trim_start_matches('\u{FEFF}').to_lowercase();
    let s = s.replace('#', " number ");
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The delimiter a header line uses: `,`, or `;` or a tab when those are what it has more of.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (comma, semi, tab) = (count(','), count(';'), count('\t'));
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma {
        b'\t'
    } else {
        b','
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes())
}

/// The header row's keys ([`normalize_key`]).
pub(crate) fn read_header(text: &str) -> Result<Vec<String>, ImportError> {
    let mut rd = reader(text);
    let mut rec = csv::StringRecord::new();
    match rd.read_record(&mut rec) {
        Ok(true) => Ok(rec.iter().map(normalize_key).collect()),
        Ok(false) => Err(ImportError::file("the file is empty")),
        Err(e) => Err(ImportError::new("row 1", format!("not valid CSV: {e}"))),
    }
}

/// One data row: its number as a spreadsheet shows it (the header is row 1) and its cells,
/// trimmed.
#[derive(Clone, Debug)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

/// A CSV file read whole: the header as written and as keys, and the data rows, each with as
/// many cells as the header. Rows with only empty cells are skipped.
#[derive(Clone, Debug)]
pub struct Table {
    pub headers: Vec<String>,
    pub keys: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The index of the column whose key is `key`.
    pub fn col(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|k| k == key)
    }

    /// `row 12, column 'Work Email'`.
    pub fn place(&self, row: usize, col: usize) -> String {
        format!(
            "row {row}, column '{}'",
            self.headers.get(col).map(String::as_str).unwrap_or("?")
        )
    }

    /// The trimmed cell, `None` when empty.
    pub fn cell<'a>(&self, row: &'a Row, col: Option<usize>) -> Option<&'a str> {
        let s = row.cells.get(col?)?.trim();
        (!s.is_empty()).then_some(s)
    }
}

/// Reads the whole table, refusing a row with a different number of cells from the header
/// (shifted columns), an empty header cell and a repeated header.
pub(crate) fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    let text = match sniff(bytes)? {
        Sniffed::Csv(t) => t,
        Sniffed::Json(_) => return Err(ImportError::file("this is JSON, not CSV")),
    };
    let mut rd = reader(text);
    let mut rec = csv::StringRecord::new();
    let mut headers = Vec::new();
    let mut rows = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        match rd.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ImportError::new(
                    format!("row {number}"),
                    format!("not valid CSV: {e}"),
                ));
            }
        }
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if number == 1 {
            headers = cells;
            continue;
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if cells.len() != headers.len() {
            return Err(ImportError::new(
                format!("row {number}"),
                format!(
                    "this row has {} cells but the header has {}: a missing or extra separator (or an unquoted comma) shifts the columns",
                    cells.len(),
                    headers.len()
                ),
            ));
        }
        rows.push(Row { number, cells });
    }
    if headers.is_empty() {
        return Err(ImportError::file("the file is empty"));
    }
    let keys: Vec<String> = headers.iter().map(|h| normalize_key(h)).collect();
    for (i, k) in keys.iter().enumerate() {
        if k.is_empty() {
            return Err(ImportError::new(
                format!("row 1, column {}", i + 1),
                "the header cell is empty",
            ));
        }
        if let Some(j) = keys[..i].iter().position(|o| o == k) {
            return Err(ImportError::new(
                format!("row 1, column '{}'", headers[i]),
                format!("the same column as '{}' appears twice", headers[j]),
            ));
        }
    }
    Ok(Table {
        headers,
        keys,
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON cursor

/// A JSON value and the path that reached it (`$.Results[3].Vulnerabilities[0]`).
#[derive(Clone)]
pub(crate) struct J<'a> {
    pub v: &'a Value,
    pub path: String,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> J<'a> {
    pub fn root(v: &'a Value) -> J<'a> {
        J {
            v,
            path: "$".into(),
        }
    }

    fn child_path(&self, name: &str) -> String {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            format!("{}.{name}", self.path)
        } else {
            format!("{}[{}]", self.path, Value::from(name))
        }
    }

    pub fn err(&self, message: impl Into<String>) -> ImportError {
        ImportError::new(self.path.clone(), message)
    }

    pub fn expect_object(&self) -> Result<&'a serde_json::Map<String, Value>, ImportError> {
        self.v
            .as_object()
            .ok_or_else(|| self.err(format!("expected an object, found {}", kind_of(self.v))))
    }

    /// The member `name`, if present and not null.
    pub fn get(&self, name: &str) -> Option<J<'a>> {
        match self.v.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(J {
                v,
                path: self.child_path(name),
            }),
        }
    }

    /// The member `name`, which must be present and not null.
    pub fn req(&self, name: &str) -> Result<J<'a>, ImportError> {
        self.expect_object()?;
        self.get(name).ok_or_else(|| {
            ImportError::new(self.child_path(name), "is missing (or null) but required")
        })
    }

    pub fn str(&self) -> Result<&'a str, ImportError> {
        self.v
            .as_str()
            .ok_or_else(|| self.err(format!("expected a string, found {}", kind_of(self.v))))
    }

    /// An optional string member: absent, null and blank are `None`; another type is an error.
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ImportError> {
        // The member's path is only built for a message: an import of 200,000 items reads
        // millions of members, and all but the wrong one are read without it.
        match self.v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then_some(s))
            }
            Some(_) => Err(self.get(name).map_or_else(
                || self.err("expected a string"),
                |j| j.str().err().unwrap_or_else(|| j.err("expected a string")),
            )),
        }
    }

    /// A required, non-blank string member.
    pub fn req_str(&self, name: &str) -> Result<&'a str, ImportError> {
        // Fast path as in `opt_str`; anything else goes the long way, for its message.
        if let Some(Value::String(s)) = self.v.get(name)
            && !s.trim().is_empty()
        {
            return Ok(s.trim());
        }
        let j = self.req(name)?;
        let s = j.str()?.trim();
        if s.is_empty() {
            return Err(j.err("is empty but required"));
        }
        Ok(s)
    }

    /// An optional boolean member: absent and null are `None`; another type is an error.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ImportError> {
        match self.v.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Bool(b)) => return Ok(Some(*b)),
            Some(_) => {}
        }
        match self.get(name) {
            None => Ok(None),
            Some(j) => {
                j.v.as_bool()
                    .map(Some)
                    .ok_or_else(|| j.err(format!("expected true or false, found {}", kind_of(j.v))))
            }
        }
    }

    /// An optional member holding an ISO 8601 / RFC 3339 instant, normalised to UTC
    /// (`2024-01-15T10:00:00Z`): absent, null and blank are `None`; anything else that is not
    /// such a time is an error at its path.
    pub fn opt_instant(&self, name: &str) -> Result<Option<String>, ImportError> {
        let Some(s) = self.opt_str(name)? else {
            return Ok(None);
        };
        match parse_instant(s) {
            Some(secs) => Ok(Some(format_instant(secs))),
            None => Err(self.get(name).map_or_else(
                || self.err("expected a time"),
                |j| {
                    j.err(format!(
                        "'{s}' is not an ISO 8601 time such as 2026-11-23T06:00:00Z"
                    ))
                },
            )),
        }
    }

    /// Follows members one after the other (`at(&["base", "repo", "full_name"])`), `None` as
    /// soon as one is absent or null.
    pub fn at(&self, names: &[&str]) -> Option<J<'a>> {
        let mut j = self.clone();
        for n in names {
            j = j.get(n)?;
        }
        Some(j)
    }

    pub fn items(&self) -> Result<Vec<J<'a>>, ImportError> {
        let a = self
            .v
            .as_array()
            .ok_or_else(|| self.err(format!("expected an array, found {}", kind_of(self.v))))?;
        Ok(a.iter()
            .enumerate()
            .map(|(i, v)| J {
                v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// The items of an optional array member (absent or null: none).
    pub fn opt_items(&self, name: &str) -> Result<Vec<J<'a>>, ImportError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(j) => j.items(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dates and times

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `(year, month, day)` of a calendar date written `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<(i64, i64, i64)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[..4])?, digits(&s[5..7])?, digits(&s[8..])?);
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// An ISO 8601 / RFC 3339 instant (`2024-01-15T10:00:00+00:00`, `…Z`, with or without
/// fractions of a second) as seconds since the Unix epoch.
pub(crate) fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || !s.as_bytes()[..19].is_ascii() {
        return None;
    }
    let (y, mo, d) = parse_date(&s[..10])?;
    if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let t = &s.as_bytes()[11..19];
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (h, mi, se) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let b = rest.as_bytes();
            if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
                return None;
            }
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if b[0] == b'-' { -o } else { o }
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_instant(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_are_normalised() {
        assert_eq!(normalize_key("Employee #"), "employee_number");
        assert_eq!(normalize_key(" Work Email "), "work_email");
        assert_eq!(normalize_key("Hire-Date"), "hire_date");
        assert_eq!(normalize_key("\u{FEFF}email"), "email");
    }

    #[test]
    fn dates_and_instants_are_checked_and_normalised() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("03/15/2024"), None);
        assert_eq!(parse_date("2024-1-5"), None);
        let t = parse_instant("2024-01-15T10:00:00+00:00").unwrap();
        assert_eq!(format_instant(t), "2024-01-15T10:00:00Z");
        let t = parse_instant("2024-01-15T12:30:00.123+02:30").unwrap();
        assert_eq!(format_instant(t), "2024-01-15T10:00:00Z");
        assert_eq!(format_instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_instant("2024-01-15"), None);
        assert_eq!(parse_instant("2024-01-15T10:00:00"), None);
        assert_eq!(parse_instant("2024-01-15T10:00:00é+00:00"), None);
    }
}
