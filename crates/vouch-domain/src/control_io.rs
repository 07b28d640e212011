//! The control matrix in and out of files: import controls from CSV or YAML, export them as CSV.
//! (The XLSX workbook is built by `vouch-export` from the same [`MatrixRow`]s.)
//!
//! Import checks the whole file before anything is kept, and reports every problem at once, each
//! naming its row (as a spreadsheet numbers it: the header is row 1) and its column. It is all or
//! nothing: [`parse_csv`], [`parse_yaml`] and [`parse_any`] return either every row, validated
//! and normalised, or the complete list of problems. Whether an owner's email belongs to a user
//! is not known here; the app checks [`ImportRow::owner_email`] and reports with
//! [`ImportError::at`] and [`ImportRow::row`].
//!
//! Pure: bytes in, values out; no IO, no clock.
//!
//! YAML is read with `serde_norway`, a maintained fork of `serde_yaml` (which its author
//! archived in 2024 and no longer fixes). It keeps `serde_yaml`'s API and behaviour (YAML 1.2
//! core schema, so `no` is a string, not a boolean; limits on alias expansion and nesting depth
//! against "billion laughs" inputs) and is the most used of the forks.
use crate::control::{Control, ControlInput, normalize_id};
use crate::controls::{Frequency, Nature};
use crate::criteria::Catalog;
use crate::validate;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Public types

/// One control read from a file, validated: ready for the app to check owners and store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    /// Where it was: for CSV the row as a spreadsheet shows it (the header is row 1; a cell
    /// with line breaks does not shift later rows); for YAML the 1-based position of the item
    /// in the list.
    pub row: usize,
    /// Already validated and normalised ([`ControlInput::validate`]).
    pub input: ControlInput,
    /// Lower-cased, checked to look like an email; whether such a user exists is the app's
    /// question.
    pub owner_email: Option<String>,
    pub backup_owner_email: Option<String>,
    pub applicable: bool,
    /// Set exactly when `applicable` is false (a justification given for an applicable control
    /// is dropped).
    pub na_justification: Option<String>,
}

/// One problem with an imported file: where (row and column, when it is about one) and what.
///
/// Displays as `row 4, column criteria: 'CC99.1' is not a SOC 2 criterion id`. For YAML, `row`
/// is the 1-based item number and `column` the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl ImportError {
    /// A problem with the file as a whole.
    pub fn file(message: impl Into<String>) -> ImportError {
        ImportError {
            row: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem in one cell (e.g. the app's "no user x@y" for row N, column `owner`).
    pub fn at(row: usize, column: &str, message: impl Into<String>) -> ImportError {
        ImportError {
            row: Some(row),
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    /// A problem with a whole row.
    pub fn row(row: usize, message: impl Into<String>) -> ImportError {
        ImportError {
            row: Some(row),
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, &self.column) {
            (Some(r), Some(c)) => write!(f, "row {r}, column {c}: {}", self.message),
            (Some(r), None) => write!(f, "row {r}: {}", self.message),
            (None, Some(c)) => write!(f, "column {c}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// One line of the control matrix as an auditor reads it: every value already text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MatrixRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub domain: String,
    /// The owner's email; empty if none.
    pub owner: String,
    /// The backup owner's email; empty if none.
    pub backup_owner: String,
    /// Stored forms joined by `; `, e.g. `quarterly; per_event`.
    pub frequency: String,
    /// `automated`, `manual` or `hybrid`.
    pub nature: String,
    /// Criterion ids joined by `; `, e.g. `CC6.1; CC6.2`.
    pub criteria: String,
    /// Evidence items joined by `; `.
    pub evidence: String,
    pub applicable: bool,
    pub na_justification: String,
    /// The computed status label (never imported).
    pub status: String,
}

/// The matrix's columns, in export order: the ones an auditor reads first, then the rest.
/// The CSV header and the workbook's header row are exactly these.
pub const MATRIX_COLUMNS: [&str; 13] = [
    "id",
    "name",
    "description",
    "owner",
    "frequency",
    "nature",
    "criteria",
    "status",
    "backup_owner",
    "domain",
    "evidence",
    "applicable",
    "na_justification",
];

/// The columns an import must have.
pub const REQUIRED_COLUMNS: [&str; 5] = ["id", "name", "frequency", "nature", "criteria"];

/// How list values are joined in a matrix cell.
pub const LIST_SEPARATOR: &str = "; ";

impl MatrixRow {
    /// The matrix line of a stored control. The app supplies what the control does not hold:
    /// the owners' emails and the computed status label.
    pub fn from_control(
        c: &Control,
        owner_email: Option<&str>,
        backup_owner_email: Option<&str>,
        status: &str,
    ) -> MatrixRow {
        MatrixRow {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            domain: c.domain.clone(),
            owner: owner_email.unwrap_or_default().to_string(),
            backup_owner: backup_owner_email.unwrap_or_default().to_string(),
            frequency: c
                .frequencies
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR),
            nature: c.nature.as_str().to_string(),
            criteria: c.criteria.join(LIST_SEPARATOR),
            evidence: c.evidence.join(LIST_SEPARATOR),
            applicable: c.applicable,
            na_justification: if c.applicable {
                String::new()
            } else {
                c.na_justification.clone().unwrap_or_default()
            },
            status: status.to_string(),
        }
    }

    /// The cells in [`MATRIX_COLUMNS`] order (`applicable` as `yes`/`no`).
    pub fn cells(&self) -> [&str; 13] {
        [
            &self.id,
            &self.name,
            &self.description,
            &self.owner,
            &self.frequency,
            &self.nature,
            &self.criteria,
            &self.status,
            &self.backup_owner,
            &self.domain,
            &self.evidence,
            if self.applicable { "yes" } else { "no" },
            &self.na_justification,
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// CSV export

/// The matrix as CSV: UTF-8 with a byte-order mark (so Excel shows accents right), a header of
/// [`MATRIX_COLUMNS`], one row per control; [`parse_csv`] reads it back.
///
/// A cell that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return) is written with a leading `'`, as OWASP advises against CSV injection;
/// import removes exactly that one `'` again, so values round-trip unchanged.
pub fn to_csv(rows: &[MatrixRow]) -> Vec<u8> {
    let mut out = Vec::from(BOM);
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        // Writing to a Vec cannot fail.
        w.write_record(MATRIX_COLUMNS)
            .expect("writing to memory cannot fail");
        for r in rows {
            w.write_record(r.cells().map(guard_formula))
                .expect("writing to memory cannot fail");
        }
        w.flush().expect("writing to memory cannot fail");
    }
    out
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn starts_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn guard_formula(s: &str) -> String {
    if starts_formula(s) || s.strip_prefix('\'').is_some_and(starts_formula) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn unguard_formula(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest)
            if starts_formula(rest) || rest.strip_prefix('\'').is_some_and(starts_formula) =>
        {
            rest
        }
        _ => s,
    }
}

// ---------------------------------------------------------------------------------------------
// Columns

/// Every column (or YAML key) an import understands, in export order so that a row's problems
/// are listed left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Col {
    Id,
    Name,
    Description,
    Owner,
    Frequency,
    Nature,
    Criteria,
    Status,
    BackupOwner,
    Domain,
    OwnerRole,
    Evidence,
    Applicable,
    NaJustification,
}

impl Col {
    const ALL: [Col; 14] = [
        Col::Id,
        Col::Name,
        Col::Description,
        Col::Owner,
        Col::Frequency,
        Col::Nature,
        Col::Criteria,
        Col::Status,
        Col::BackupOwner,
        Col::Domain,
        Col::OwnerRole,
        Col::Evidence,
        Col::Applicable,
        Col::NaJustification,
    ];

    fn name(self) -> &'static str {
        match self {
            Col::Id => "id",
            Col::Name => "name",
            Col::Description => "description",
            Col::Owner => "owner",
            Col::Frequency => "frequency",
            Col::Nature => "nature",
            Col::Criteria => "criteria",
            Col::Status => "status",
            Col::BackupOwner => "backup_owner",
            Col::Domain => "domain",
            Col::OwnerRole => "owner_role",
            Col::Evidence => "evidence",
            Col::Applicable => "applicable",
            Col::NaJustification => "na_justification",
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            Col::Id | Col::Name | Col::Frequency | Col::Nature | Col::Criteria
        )
    }

    /// A header cell or YAML key, compared case-insensitively, with spaces and hyphens taken
    /// as underscores (`Backup owner`, `na-justification`). `frequencies` is the same column
    /// as `frequency` (it is the field's name in the API and in YAML).
    fn from_key(key: &str) -> Option<Col> {
        let k = normalize_key(key);
        if k == "frequencies" {
            return Some(Col::Frequency);
        }
        Col::ALL.into_iter().find(|c| c.name() == k)
    }
}

fn normalize_key(key: &str) -> String {
    key.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// Every column name (for YAML keys, `frequencies` as the API spells it).
fn known_columns(what: &str) -> String {
    Col::ALL
        .map(|c| match c {
            Col::Frequency if what == "key" => "frequencies",
            c => c.name(),
        })
        .join(", ")
}

/// "did you mean" for a misspelt column: the known name within two edits, if any.
fn suggest(key: &str) -> Option<&'static str> {
    let k = normalize_key(key);
    Col::ALL
        .into_iter()
        .map(|c| (edit_distance(&k, c.name()), c.name()))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The spreadsheet letter of a 0-based column index: A, B, …, Z, AA, …
fn col_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

fn unknown_column_message(key: &str, what: &str) -> String {
    match suggest(key) {
        Some(s) => format!("unknown {what} '{}': did you mean '{s}'?", key.trim()),
        None => format!(
            "unknown {what} '{}': the {what}s are {}",
            key.trim(),
            known_columns(what)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// What a file looks like

/// Checks that the bytes are text (UTF-8, without its BOM) and not something else handed over
/// by mistake; `expected` names what was wanted ("CSV", "YAML") for the message.
fn as_text<'a>(bytes: &'a [u8], expected: &str) -> Result<&'a str, ImportError> {
    let export_first = "export the sheet as CSV (UTF-8) first";
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        let msg = if has(b"xl/") {
            format!("this looks like an XLSX workbook, not {expected}: {export_first}")
        } else if has(b"application/vnd.oasis.opendocument.spreadsheet") {
            format!(
                "this looks like an OpenDocument spreadsheet (.ods), not {expected}: {export_first}"
            )
        } else if has(b"word/") {
            format!("this looks like a Word document, not {expected}")
        } else {
            format!("this looks like a ZIP archive, not {expected}")
        };
        return Err(ImportError::file(msg));
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Err(ImportError::file(format!(
            "this looks like an old-style Excel workbook (.xls), not {expected}: {export_first}"
        )));
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ImportError::file(format!(
            "this looks like a PDF document, not {expected}"
        )));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ImportError::file(format!(
            "this file is UTF-16 text (Excel's \"Unicode Text\"), not UTF-8: save it as {}",
            if expected == "YAML" {
                "UTF-8"
            } else {
                "\"CSV UTF-8\""
            }
        )));
    }
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if head.contains(&0) || controls * 20 > head.len() {
        return Err(ImportError::file(format!(
            "this looks like a binary file, not {expected} text"
        )));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            return Err(ImportError::file(format!(
                "the file is not UTF-8 text (the first character that is not is on line {line}): save it as {}",
                if expected == "YAML" {
                    "UTF-8"
                } else {
                    "\"CSV UTF-8\""
                }
            )));
        }
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ImportError::file(if expected == "YAML" {
            "the file is empty: expected a list of controls".to_string()
        } else {
            format!(
                "the file is empty: expected a header row ({}) and one row per control",
                REQUIRED_COLUMNS.join(", ")
            )
        }));
    }
    Ok(text)
}

/// The first line that is not blank and not a `#` comment.
fn first_meaningful_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("")
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
}

fn looks_like_markup(text: &str) -> bool {
    text.trim_start().starts_with('<')
}

fn looks_like_yaml(text: &str) -> bool {
    let first = first_meaningful_line(text);
    if first == "---" || first == "-" || first.starts_with("- ") {
        return true;
    }
    // `controls:` or a single `key: value` map.
    match first.split_once(':') {
        Some((key, rest)) => {
            !key.is_empty()
                && key.chars().all(|c| c.is_alphanumeric() || c == '_')
                && (rest.is_empty() || rest.starts_with(' '))
                && !first.contains(',')
        }
        None => false,
    }
}

fn json_message(expected: &str) -> String {
    format!(
        "this looks like JSON, not {expected}: give the controls as CSV (a header row, then one row per control) or as YAML (a list of controls)"
    )
}

// ---------------------------------------------------------------------------------------------
// Rows before validation

/// A cell's value as the file gave it.
#[derive(Clone, Debug)]
enum Cell {
    Text(String),
    List(Vec<String>),
    Bool(bool),
}

/// One row (or YAML item) read but not yet checked.
struct RawRow {
    row: usize,
    cells: HashMap<Col, Cell>,
    /// The column name to report for each column: as the file spells it (normalised).
    names: HashMap<Col, String>,
}

/// What the file calls a row, in messages that point at another one.
#[derive(Clone, Copy)]
enum Unit {
    Row,
    Item,
}

impl Unit {
    fn word(self) -> &'static str {
        match self {
            Unit::Row => "row",
            Unit::Item => "item",
        }
    }
}

const LIST_SEPARATORS: &[char] = &[';', ',', '\n', '\r'];
const EVIDENCE_SEPARATORS: &[char] = &[';', '\n', '\r'];

fn split_list(s: &str, seps: &[char]) -> Vec<String> {
    s.split(seps)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_frequency(raw: &str) -> Option<Frequency> {
    let k: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    let k = match k.as_str() {
        "annually" | "yearly" => "annual",
        other => other,
    };
    Frequency::parse(k)
}

fn parse_yes_no(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "" | "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Checks one raw row: every problem in it goes to `errors` (left to right); the id is recorded
/// in `seen` so a later duplicate can name this row.
fn check_row(
    raw: RawRow,
    unit: Unit,
    catalog: &Catalog,
    seen: &mut HashMap<String, usize>,
    errors: &mut Vec<ImportError>,
) -> Option<ImportRow> {
    let row = raw.row;
    let mut errs: Vec<(Col, String)> = Vec::new();

    let text = |c: Col, errs: &mut Vec<(Col, String)>| -> String {
        match raw.cells.get(&c) {
            None => String::new(),
            Some(Cell::Text(s)) => s.trim().to_string(),
            Some(Cell::Bool(b)) => b.to_string(),
            Some(Cell::List(_)) => {
                errs.push((c, "expected one value, not a list".into()));
                String::new()
            }
        }
    };
    let list = |c: Col, seps: &[char]| -> Vec<String> {
        match raw.cells.get(&c) {
            None => Vec::new(),
            Some(Cell::Text(s)) => split_list(s, seps),
            Some(Cell::List(v)) => v
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Cell::Bool(b)) => vec![b.to_string()],
        }
    };

    let id = text(Col::Id, &mut errs);
    if id.is_empty() && !errs.iter().any(|(c, _)| *c == Col::Id) {
        errs.push((Col::Id, "is required".into()));
    }
    let name = text(Col::Name, &mut errs);
    let description = text(Col::Description, &mut errs);
    let domain = text(Col::Domain, &mut errs);
    let owner_role = text(Col::OwnerRole, &mut errs);

    let mut frequencies = Vec::new();
    for f in list(Col::Frequency, LIST_SEPARATORS) {
        match parse_frequency(&f) {
            Some(f) => frequencies.push(f),
            None => {
                errs.push((
                    Col::Frequency,
                    format!(
                        "'{f}' is not a frequency: use {}",
                        Frequency::ALL.map(Frequency::as_str).join(", ")
                    ),
                ));
            }
        }
    }

    let nature_raw = text(Col::Nature, &mut errs);
    let nature = if nature_raw.is_empty() {
        errs.push((Col::Nature, "is required".into()));
        None
    } else {
        let n = Nature::parse(&nature_raw.to_lowercase());
        if n.is_none() {
            errs.push((
                Col::Nature,
                format!(
                    "'{nature_raw}' is not a nature: use {}",
                    Nature::ALL.map(Nature::as_str).join(", ")
                ),
            ));
        }
        n
    };

    let criteria = list(Col::Criteria, LIST_SEPARATORS);
    let evidence = list(Col::Evidence, EVIDENCE_SEPARATORS);

    let email = |c: Col, errs: &mut Vec<(Col, String)>| -> Option<String> {
        let raw = text(c, errs);
        if raw.is_empty() {
            return None;
        }
        match validate::email(c.name(), &raw) {
            Ok(e) => Some(e),
            Err(fe) => {
                errs.push((c, fe.message));
                None
            }
        }
    };
    let owner_email = email(Col::Owner, &mut errs);
    let backup_owner_email = email(Col::BackupOwner, &mut errs);

    let applicable = match raw.cells.get(&Col::Applicable) {
        Some(Cell::Bool(b)) => *b,
        _ => {
            let a = text(Col::Applicable, &mut errs);
            parse_yes_no(&a).unwrap_or_else(|| {
                errs.push((
                    Col::Applicable,
                    format!("'{a}' is not yes or no (true and false are fine too)"),
                ));
                true
            })
        }
    };
    let justification = text(Col::NaJustification, &mut errs);
    let na_justification = if applicable {
        None
    } else if justification.is_empty() {
        errs.push((
            Col::NaJustification,
            "is required when the control is not applicable: say why it does not apply".into(),
        ));
        None
    } else {
        Some(justification)
    };

    let input = ControlInput {
        id: id.clone(),
        name,
        description,
        domain,
        owner_role,
        frequencies,
        nature: nature.unwrap_or(Nature::Manual),
        evidence,
        criteria,
    };
    let validated = match input.validate(catalog) {
        Ok(v) => Some(v),
        Err(field_errors) => {
            // A column that already has a problem is not reported again (an empty id is "is
            // required", not also "'' is not a control id").
            let reported: Vec<Col> = errs.iter().map(|(c, _)| *c).collect();
            for fe in field_errors {
                let col = Col::from_key(&fe.field).unwrap_or(Col::Id);
                if !reported.contains(&col) {
                    errs.push((col, fe.message));
                }
            }
            None
        }
    };

    if let Ok(nid) = normalize_id(&id) {
        match seen.get(&nid) {
            Some(first) => errs.push((
                Col::Id,
                format!(
                    "'{nid}' is already used on {} {first}: each control id must be unique",
                    unit.word()
                ),
            )),
            None => {
                seen.insert(nid, row);
            }
        }
    }

    if !errs.is_empty() {
        errs.sort_by_key(|(c, _)| *c);
        for (c, message) in errs {
            let name = raw.names.get(&c).map_or(c.name(), String::as_str);
            errors.push(ImportError::at(row, name, message));
        }
        return None;
    }
    Some(ImportRow {
        row,
        input: validated?,
        owner_email,
        backup_owner_email,
        applicable,
        na_justification,
    })
}

fn check_rows(
    raws: Vec<RawRow>,
    unit: Unit,
    catalog: &Catalog,
    mut errors: Vec<ImportError>,
) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    let mut seen = HashMap::new();
    let mut rows = Vec::with_capacity(raws.len());
    for raw in raws {
        if let Some(r) = check_row(raw, unit, catalog, &mut seen, &mut errors) {
            rows.push(r);
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        // Row by row, in file order; within a row, as found (structure, then values).
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// CSV import

/// Reads controls from CSV (comma-separated; a semicolon- or tab-separated file is recognised
/// by its header). See the module documentation for the all-or-nothing contract.
///
/// The header is row 1: names are matched case-insensitively. Required: `id`, `name`,
/// `frequency`, `nature`, `criteria`; optional: `description`, `owner`, `backup_owner`,
/// `domain`, `owner_role`, `evidence`, `applicable` (yes/no), `na_justification`, and `status`
/// (ignored: status is computed). Lists split on `;` (and on `,` or line breaks for `frequency`
/// and `criteria`). When the header itself is wrong (an unknown, duplicate or missing column),
/// only the header's problems are reported: the rows cannot be read reliably until it is fixed.
pub fn parse_csv(bytes: &[u8], catalog: &Catalog) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    let text = as_text(bytes, "CSV").map_err(|e| vec![e])?;
    if looks_like_json(text) {
        return Err(vec![ImportError::file(json_message("CSV"))]);
    }
    if looks_like_markup(text) {
        return Err(vec![ImportError::file(
            "this looks like HTML or XML, not CSV: export the sheet as CSV (UTF-8)",
        )]);
    }
    let delimiter = sniff_delimiter(text);
    let records = read_records(text, delimiter)?;
    let mut records = records.into_iter();
    let Some((header_row, header)) = records.next() else {
        return Err(vec![ImportError::file("the file is empty")]);
    };
    let records: Vec<(usize, Vec<String>)> = records.collect();

    let cols = check_header(text, header_row, &header, &records)?;
    let width = header.len();
    // Columns up to the last named one: a row may leave out trailing unnamed ones.
    let named_width = width
        - header
            .iter()
            .rev()
            .take_while(|h| h.trim().is_empty())
            .count();

    let mut errors = Vec::new();
    let mut raws = Vec::new();
    for (row, cells) in records {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let used = cells.len()
            - cells
                .iter()
                .rev()
                .take_while(|c| c.trim().is_empty())
                .count();
        if used > width || cells.len() < named_width {
            errors.push(ImportError::row(
                row,
                format!(
                    "has {} values but the header has {named_width} columns: is a value with a comma (or a line break) missing its quotes?",
                    if used > width { used } else { cells.len() }
                ),
            ));
            continue;
        }
        let mut raw = RawRow {
            row,
            cells: HashMap::new(),
            names: HashMap::new(),
        };
        for (i, col) in cols.iter().enumerate() {
            let Some(col) = col else { continue };
            let value = cells.get(i).map_or("", |c| unguard_formula(c));
            raw.cells.insert(*col, Cell::Text(value.to_string()));
        }
        raws.push(raw);
    }
    if raws.is_empty() && errors.is_empty() {
        return Err(vec![ImportError::file(
            "the file has a header but no controls: add one row per control below it",
        )]);
    }
    check_rows(raws, Unit::Row, catalog, errors)
}

/// `,` unless the first line reads as a header with `;` or tab between its names.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let score = |d: char| {
        first
            .split(d)
            .filter(|k| Col::from_key(k.trim_matches('"')).is_some())
            .count()
    };
    let comma = score(',');
    [(b';', score(';')), (b'\t', score('\t'))]
        .into_iter()
        .filter(|(_, s)| *s > comma && *s >= 2)
        .max_by_key(|(_, s)| *s)
        .map_or(b',', |(d, _)| d)
}

/// Every record with the spreadsheet row it shows on. Blank lines count as rows (spreadsheets
/// show them); line breaks inside quoted cells do not.
fn read_records(text: &str, delimiter: u8) -> Result<Vec<(usize, Vec<String>)>, Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut inner_breaks = 0usize;
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let row = e.position().map(|p| p.line() as usize - inner_breaks);
            vec![ImportError {
                row,
                column: None,
                message: format!("cannot be read as CSV: {e}"),
            }]
        })?;
        // The reader places a record where the previous one ended, before any blank lines it
        // skipped; count those to find the record's own line.
        let line = rec.position().map_or(1, |p| {
            let blank = text
                .get(p.byte() as usize..)
                .unwrap_or("")
                .chars()
                .take_while(|c| matches!(c, '\r' | '\n'))
                .filter(|c| *c == '\n')
                .count();
            p.line() as usize + blank
        });
        out.push((
            line - inner_breaks,
            rec.iter().map(str::to_string).collect::<Vec<_>>(),
        ));
        inner_breaks += rec.iter().map(|f| f.matches('\n').count()).sum::<usize>();
    }
    Ok(out)
}

/// Maps the header's cells to columns, or says everything that is wrong with it.
fn check_header(
    text: &str,
    header_row: usize,
    header: &[String],
    records: &[(usize, Vec<String>)],
) -> Result<Vec<Option<Col>>, Vec<ImportError>> {
    let cols: Vec<Option<Col>> = header.iter().map(|h| Col::from_key(h)).collect();
    if cols.iter().all(Option::is_none) {
        let later = records
            .iter()
            .take(10)
            .find(|(_, cells)| cells.iter().filter(|c| Col::from_key(c).is_some()).count() >= 3);
        if let Some((r, _)) = later {
            return Err(vec![ImportError::file(format!(
                "the header must be on row 1, but row {r} looks like the header: delete the rows above it"
            ))]);
        }
        if looks_like_yaml(text) {
            return Err(vec![ImportError::file(
                "this looks like YAML, not CSV: upload it as a .yaml file",
            )]);
        }
        let found: Vec<String> = header
            .iter()
            .filter(|h| !h.trim().is_empty())
            .take(5)
            .map(|h| format!("'{}'", h.trim().chars().take(30).collect::<String>()))
            .collect();
        return Err(vec![ImportError::file(format!(
            "the first row is not a header: expected column names such as {} (found {})",
            REQUIRED_COLUMNS.join(", "),
            if found.is_empty() {
                "nothing".to_string()
            } else {
                found.join(", ")
            }
        ))]);
    }

    let mut errors = Vec::new();
    let mut first_at: HashMap<Col, usize> = HashMap::new();
    for (i, (h, col)) in header.iter().zip(&cols).enumerate() {
        let letter = col_letter(i);
        match col {
            Some(c) => {
                if let Some(j) = first_at.get(c) {
                    errors.push(ImportError::at(
                        header_row,
                        c.name(),
                        format!(
                            "the column appears twice (columns {} and {letter})",
                            col_letter(*j)
                        ),
                    ));
                } else {
                    first_at.insert(*c, i);
                }
            }
            None if h.trim().is_empty() => {
                let used = records
                    .iter()
                    .find(|(_, cells)| cells.get(i).is_some_and(|c| !c.trim().is_empty()));
                if let Some((r, _)) = used {
                    errors.push(ImportError::row(
                        header_row,
                        format!(
                            "column {letter} has no name but holds values (from row {r}): name it or delete it"
                        ),
                    ));
                }
            }
            None => errors.push(ImportError::at(
                header_row,
                h.trim(),
                format!("{} (column {letter})", unknown_column_message(h, "column")),
            )),
        }
    }
    for c in Col::ALL.into_iter().filter(|c| c.required()) {
        if !first_at.contains_key(&c) {
            errors.push(ImportError::at(
                header_row,
                c.name(),
                "this required column is missing",
            ));
        }
    }
    if errors.is_empty() {
        Ok(cols)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// YAML import

/// Reads controls from YAML: a list of maps (or a map whose only key is `controls`, holding
/// that list), each with the same fields as the CSV columns; `frequencies`, `criteria` and
/// `evidence` may be lists or strings, and `frequency` is accepted for `frequencies`. Unknown
/// keys are errors. A problem's `row` is the 1-based number of the item in the list.
pub fn parse_yaml(bytes: &[u8], catalog: &Catalog) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    use serde_norway::Value;
    let text = as_text(bytes, "YAML").map_err(|e| vec![e])?;
    let value: Value = serde_norway::from_str(text).map_err(|e| {
        vec![ImportError::file(format!(
            "the file is not valid YAML: {e}"
        ))]
    })?;
    let shape = "expected a list of controls (each a map with id, name, frequencies, nature, criteria, …), or a map whose only key is 'controls' holding that list";
    let items = match value {
        Value::Sequence(items) => items,
        Value::Mapping(mut m) => {
            if m.contains_key("id") || m.contains_key("name") {
                return Err(vec![ImportError::file(
                    "expected a list of controls, but the file holds a single control: start it with '- ' (e.g. '- id: IAM-01')",
                )]);
            }
            let controls = m.remove("controls");
            let mut errors: Vec<ImportError> = m
                .keys()
                .map(|k| {
                    ImportError::file(format!(
                        "unknown top-level key '{}': the only one is 'controls'",
                        scalar_text(k).unwrap_or_else(|| "?".into())
                    ))
                })
                .collect();
            match controls {
                Some(Value::Sequence(items)) if errors.is_empty() => items,
                Some(Value::Sequence(_)) => return Err(errors),
                Some(_) => {
                    errors.push(ImportError::file("'controls' must be a list of controls"));
                    return Err(errors);
                }
                None => {
                    errors.push(ImportError::file(shape));
                    return Err(errors);
                }
            }
        }
        Value::String(s) if s.contains(',') || s.contains(';') => {
            return Err(vec![ImportError::file(
                "this looks like CSV, not YAML: upload it as a .csv file",
            )]);
        }
        Value::Null => {
            return Err(vec![ImportError::file(
                "the file is empty: expected a list of controls",
            )]);
        }
        _ => return Err(vec![ImportError::file(shape)]),
    };
    if items.is_empty() {
        return Err(vec![ImportError::file(
            "the list of controls is empty: nothing to import",
        )]);
    }

    let mut errors = Vec::new();
    let mut raws = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let row = i + 1;
        let Value::Mapping(map) = item else {
            errors.push(ImportError::row(
                row,
                "expected a map of fields (id, name, frequencies, nature, criteria, …)",
            ));
            continue;
        };
        let mut raw = RawRow {
            row,
            cells: HashMap::new(),
            names: HashMap::new(),
        };
        for (k, v) in map {
            let Some(key) = scalar_text(&k) else {
                errors.push(ImportError::row(row, "a key is not text"));
                continue;
            };
            let Some(col) = Col::from_key(&key) else {
                errors.push(ImportError::at(
                    row,
                    key.trim(),
                    unknown_column_message(&key, "key"),
                ));
                continue;
            };
            let name = normalize_key(&key);
            if let Some(other) = raw.names.get(&col) {
                errors.push(ImportError::at(
                    row,
                    &name,
                    format!("'{other}' and '{name}' are the same field: give it once"),
                ));
                continue;
            }
            let cell = match v {
                Value::Null => None,
                Value::Bool(b) => Some(Cell::Bool(b)),
                Value::Sequence(items) => {
                    let mut list = Vec::new();
                    for it in &items {
                        match scalar_text(it) {
                            Some(s) => list.push(s),
                            None => {
                                errors.push(ImportError::at(
                                    row,
                                    &name,
                                    "a list here holds text only, not lists or maps",
                                ));
                            }
                        }
                    }
                    Some(Cell::List(list))
                }
                other => match scalar_text(&other) {
                    Some(s) => Some(Cell::Text(s)),
                    None => {
                        errors.push(ImportError::at(
                            row,
                            &name,
                            "expected text or a list, not a map",
                        ));
                        None
                    }
                },
            };
            raw.names.insert(col, name);
            if let Some(cell) = cell {
                raw.cells.insert(col, cell);
            }
        }
        // Name the frequency field as YAML (and the API) spells it unless the file said
        // otherwise.
        raw.names
            .entry(Col::Frequency)
            .or_insert_with(|| "frequencies".into());
        // An item with an unknown or repeated key is still checked, so that every problem is
        // reported at once.
        raws.push(raw);
    }
    check_rows(raws, Unit::Item, catalog, errors)
}

/// A YAML scalar as text (strings, numbers, booleans); `None` for lists, maps and tags.
fn scalar_text(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Tagged(t) => scalar_text(&t.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Either

/// Reads controls from an uploaded file: by its extension (`.csv`/`.tsv`, `.yaml`/`.yml`) when
/// it has one of those, otherwise by what the content looks like. A spreadsheet workbook, JSON
/// or a binary file is refused with a message saying so.
pub fn parse_any(
    file_name: Option<&str>,
    bytes: &[u8],
    catalog: &Catalog,
) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    let ext = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.trim().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv" | "tsv") => parse_csv(bytes, catalog),
        Some("yaml" | "yml") => parse_yaml(bytes, catalog),
        _ => {
            let text = as_text(bytes, "CSV or YAML").map_err(|e| vec![e])?;
            if looks_like_json(text) {
                Err(vec![ImportError::file(json_message("CSV or YAML"))])
            } else if looks_like_yaml(text) {
                parse_yaml(bytes, catalog)
            } else {
                parse_csv(bytes, catalog)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::soc2;

    const HEADER: &str = "id,name,description,owner,frequency,nature,criteria";

    fn csv(body: &str) -> Result<Vec<ImportRow>, Vec<ImportError>> {
        parse_csv(body.as_bytes(), soc2())
    }

    fn errors(r: Result<Vec<ImportRow>, Vec<ImportError>>) -> Vec<String> {
        r.expect_err("should be refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn one_error(r: Result<Vec<ImportRow>, Vec<ImportError>>) -> String {
        let e = errors(r);
        assert_eq!(e.len(), 1, "{e:#?}");
        e[0].clone()
    }

    fn matrix_row(id: &str) -> MatrixRow {
        MatrixRow {
            id: id.into(),
            name: "Quarterly access review".into(),
            description: "Review every account.".into(),
            domain: "Identity & access".into(),
            owner: "ada@example.com".into(),
            backup_owner: String::new(),
            frequency: "quarterly".into(),
            nature: "manual".into(),
            criteria: "CC6.1; CC6.2".into(),
            evidence: "review export".into(),
            applicable: true,
            na_justification: String::new(),
            status: "Passing".into(),
        }
    }

    #[test]
    fn a_good_csv_imports_every_row_normalised() {
        let rows = csv(&format!(
            "{HEADER},evidence,applicable,na_justification,status\n\
             iam-01,Access review,Quarterly review,Ada@Example.com,Quarterly; per-event,Manual,cc6.1;CC6.2,export; sign-off,yes,,Failing\n\
             ops-02,Backups,,,\"daily, annual\",automated,\"A1.2, A1.3\",,no,We have no servers,\n"
        ))
        .unwrap();
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(a.row, 2);
        assert_eq!(a.input.id, "IAM-01");
        assert_eq!(
            a.input.frequencies,
            vec![Frequency::Quarterly, Frequency::PerEvent]
        );
        assert_eq!(a.input.nature, Nature::Manual);
        assert_eq!(a.input.criteria, vec!["CC6.1", "CC6.2"]);
        assert_eq!(a.input.evidence, vec!["export", "sign-off"]);
        assert_eq!(a.owner_email.as_deref(), Some("ada@example.com"));
        assert!(a.applicable && a.na_justification.is_none());
        let b = &rows[1];
        assert_eq!(b.row, 3);
        assert_eq!(
            b.input.frequencies,
            vec![Frequency::Daily, Frequency::Annual]
        );
        assert_eq!(b.input.criteria, vec!["A1.2", "A1.3"]);
        assert_eq!(b.owner_email, None);
        assert!(!b.applicable);
        assert_eq!(b.na_justification.as_deref(), Some("We have no servers"));
        assert_eq!(b.input.domain, "Custom");
    }

    #[test]
    fn header_names_are_case_insensitive_and_trimmed() {
        let rows = csv(" ID , Name,FREQUENCY ,Nature,Criteria, Backup Owner\nX-1,n,weekly,hybrid,CC7.2,b@x.io\n")
            .unwrap();
        assert_eq!(rows[0].input.id, "X-1");
        assert_eq!(rows[0].backup_owner_email.as_deref(), Some("b@x.io"));
    }

    #[test]
    fn a_byte_order_mark_is_allowed() {
        let mut bytes = BOM.to_vec();
        bytes.extend_from_slice(b"id,name,frequency,nature,criteria\nX-1,n,weekly,manual,CC7.2\n");
        let rows = parse_csv(&bytes, soc2()).unwrap();
        assert_eq!(rows[0].input.id, "X-1");
        // Without the BOM being stripped, the first column would be an unknown '\u{feff}id'.
    }

    #[test]
    fn a_missing_column_is_named() {
        let e = one_error(csv("id,name,frequency,nature\nX-1,n,weekly,manual\n"));
        assert_eq!(e, "row 1, column criteria: this required column is missing");
    }

    #[test]
    fn an_unknown_criterion_names_row_and_column() {
        let e = one_error(csv(&format!(
            "{HEADER}\nX-1,n,,,weekly,manual,CC6.1\nX-2,n,,,weekly,manual,CC99.1\n"
        )));
        assert_eq!(
            e,
            "row 3, column criteria: 'CC99.1' is not a SOC 2 criterion id"
        );
    }

    #[test]
    fn a_duplicate_id_names_the_first_row() {
        let e = one_error(csv(&format!(
            "{HEADER}\nIAM-01,a,,,weekly,manual,CC6.1\nOPS-01,b,,,weekly,manual,CC6.1\n iam-01 ,c,,,weekly,manual,CC6.1\n"
        )));
        assert_eq!(
            e,
            "row 4, column id: 'IAM-01' is already used on row 2: each control id must be unique"
        );
    }

    #[test]
    fn a_badly_formed_owner_email_is_reported() {
        let e = one_error(csv(&format!("{HEADER}\nX-1,n,,ada,weekly,manual,CC6.1\n")));
        assert_eq!(e, "row 2, column owner: 'ada' is not an email address");
    }

    #[test]
    fn an_unknown_frequency_and_nature_are_reported() {
        let e = errors(csv(&format!(
            "{HEADER}\nX-1,n,,,fortnightly,sometimes,CC6.1\n"
        )));
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(e[0].starts_with(
            "row 2, column frequency: 'fortnightly' is not a frequency: use continuous, daily"
        ));
        assert!(e[1].starts_with("row 2, column nature: 'sometimes' is not a nature"));
    }

    #[test]
    fn frequency_spellings_people_use_are_accepted() {
        let rows = csv(&format!(
            "{HEADER}\nX-1,n,,,\"Per event\nAnnually\",manual,CC6.1\n"
        ))
        .unwrap();
        assert_eq!(
            rows[0].input.frequencies,
            vec![Frequency::Annual, Frequency::PerEvent]
        );
    }

    #[test]
    fn every_problem_in_every_row_is_reported_left_to_right() {
        let e = errors(csv(&format!(
            "{HEADER},applicable\n\
             9x,,,bob,,manual,CC6.1,\n\
             OK-1,fine,,,weekly,manual,CC6.1,\n\
             X-3,n,,,weekly,,CC99.9; CC6.1,no\n"
        )));
        assert_eq!(
            e,
            vec![
                "row 2, column id: '9x' is not a control id: use letters, digits and hyphens, starting with a letter (e.g. IAM-03)",
                "row 2, column name: is required",
                "row 2, column owner: 'bob' is not an email address",
                "row 2, column frequency: name at least one frequency",
                "row 4, column nature: is required",
                "row 4, column criteria: 'CC99.9' is not a SOC 2 criterion id",
                "row 4, column na_justification: is required when the control is not applicable: say why it does not apply",
            ]
        );
    }

    #[test]
    fn nothing_is_imported_when_one_row_is_bad() {
        let r = csv(&format!(
            "{HEADER}\nX-1,n,,,weekly,manual,CC6.1\nX-2,n,,,weekly,manual,nope\n"
        ));
        assert_eq!(r.unwrap_err().len(), 1);
    }

    #[test]
    fn unknown_and_misspelt_columns_are_named() {
        let e = errors(csv(
            "id,name,descripton,frequency,nature,criteria,colour\nX-1,n,d,weekly,manual,CC6.1,red\n",
        ));
        assert_eq!(
            e,
            vec![
                "row 1, column descripton: unknown column 'descripton': did you mean 'description'? (column C)".to_string(),
                format!("row 1, column colour: unknown column 'colour': the columns are {} (column G)", known_columns("column")),
            ]
        );
    }

    #[test]
    fn a_shifted_csv_is_caught() {
        // The header lost its first name: every name sits one column to the left of its values.
        let e = errors(csv(
            "name,frequency,nature,criteria\nX-1,Access review,weekly,manual,CC6.1\n",
        ));
        assert_eq!(e, vec!["row 1, column id: this required column is missing"]);
        // A value with an unquoted comma pushes the rest of its row one column to the right.
        let e = errors(csv(&format!(
            "{HEADER}\nX-1,n,Reviews, then sign-off,,weekly,manual,CC6.1\nX-2,n,,,weekly,manual,CC6.1\n"
        )));
        assert_eq!(
            e,
            vec![
                "row 2: has 8 values but the header has 7 columns: is a value with a comma (or a line break) missing its quotes?"
            ]
        );
        // A row that lost a cell.
        let e = errors(csv(&format!("{HEADER}\nX-1,n,,weekly,manual,CC6.1\n")));
        assert_eq!(
            e,
            vec![
                "row 2: has 6 values but the header has 7 columns: is a value with a comma (or a line break) missing its quotes?"
            ]
        );
    }

    #[test]
    fn duplicate_and_unnamed_columns_are_refused() {
        let e = errors(csv(
            "id,name,frequency,nature,criteria,Name,\nX-1,n,weekly,manual,CC6.1,m,oops\n",
        ));
        assert_eq!(
            e,
            vec![
                "row 1, column name: the column appears twice (columns B and F)",
                "row 1: column G has no name but holds values (from row 2): name it or delete it",
            ]
        );
        // Trailing empty columns, as spreadsheets sometimes write, are fine.
        assert!(csv("id,name,frequency,nature,criteria,,\nX-1,n,weekly,manual,CC6.1,,\n").is_ok());
    }

    #[test]
    fn status_is_ignored_and_blank_rows_are_skipped_but_counted() {
        let rows = csv(
            "id,name,frequency,nature,criteria,status\n\nX-1,n,weekly,manual,CC6.1,Passing\n,,,,,\nX-2,n,weekly,manual,CC6.1,whatever\n",
        )
        .unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![3, 5]);
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        // A description with line breaks is one spreadsheet row, though several lines of text.
        let e = one_error(csv(&format!(
            "{HEADER}\nX-1,n,\"line one\nline two\nline three\",,weekly,manual,CC6.1\nX-2,n,,,weekly,manual,CC0\n"
        )));
        assert!(e.starts_with("row 3, column criteria:"), "{e}");
    }

    #[test]
    fn semicolon_and_tab_separated_files_are_recognised() {
        let rows =
            csv("id;name;frequency;nature;criteria\nX-1;n;weekly, daily;manual;CC6.1, CC6.2\n")
                .unwrap();
        assert_eq!(rows[0].input.criteria, vec!["CC6.1", "CC6.2"]);
        let rows = csv(
            "id\tname\tfrequency\tnature\tcriteria\nX-1\tn, with comma\tweekly\tmanual\tCC6.1\n",
        )
        .unwrap();
        assert_eq!(rows[0].input.name, "n, with comma");
    }

    #[test]
    fn an_applicable_value_must_be_yes_or_no() {
        let e = one_error(csv(
            "id,name,frequency,nature,criteria,applicable\nX-1,n,weekly,manual,CC6.1,maybe\n",
        ));
        assert_eq!(
            e,
            "row 2, column applicable: 'maybe' is not yes or no (true and false are fine too)"
        );
        let rows = csv(
            "id,name,frequency,nature,criteria,applicable,na_justification\nX-1,n,weekly,manual,CC6.1,TRUE,left over\nX-2,n,weekly,manual,CC6.1,False,No cardholder data\n",
        )
        .unwrap();
        assert_eq!(rows[0].na_justification, None);
        assert!(!rows[1].applicable);
    }

    // ----- files that are not CSV

    #[test]
    fn an_empty_file_is_refused_clearly() {
        for body in ["", "  \n\n", "\u{FEFF}"] {
            let e = one_error(csv(body));
            assert!(e.starts_with("the file is empty"), "{e}");
        }
        let e = one_error(csv("id,name,frequency,nature,criteria\n"));
        assert!(e.contains("header but no controls"), "{e}");
    }

    #[test]
    fn an_xlsx_workbook_is_refused_clearly() {
        // The start of a real XLSX: a ZIP whose first entries are the workbook's parts.
        let mut bytes = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec();
        bytes.extend_from_slice(
            b"[Content_Types].xml\x00\x00\x00PK\x03\x04xl/workbook.xml\x00\x01\x02",
        );
        let e = one_error(parse_csv(&bytes, soc2()));
        assert_eq!(
            e,
            "this looks like an XLSX workbook, not CSV: export the sheet as CSV (UTF-8) first"
        );
        let e = one_error(parse_csv(
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00",
            soc2(),
        ));
        assert!(e.contains("old-style Excel workbook (.xls)"), "{e}");
    }

    #[test]
    fn json_is_refused_clearly() {
        for body in [r#"[{"id": "X-1", "name": "n"}]"#, "\n  {\"controls\": []}"] {
            let e = one_error(csv(body));
            assert!(e.starts_with("this looks like JSON, not CSV"), "{e}");
        }
    }

    #[test]
    fn binary_content_is_refused_clearly() {
        // A deterministic pseudo-random blob.
        let mut x: u32 = 2463534242;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        let e = one_error(parse_csv(&bytes, soc2()));
        assert_eq!(e, "this looks like a binary file, not CSV text");
        let e = one_error(parse_csv(b"%PDF-1.7\n%\xE2\xE3", soc2()));
        assert!(e.contains("PDF"), "{e}");
    }

    #[test]
    fn other_encodings_are_refused_with_how_to_fix() {
        // Latin-1 'é' on line 2, as an old Excel "CSV" export writes it.
        let e = one_error(parse_csv(
            b"id,name,frequency,nature,criteria\nX-1,Caf\xE9,weekly,manual,CC6.1\n",
            soc2(),
        ));
        assert_eq!(
            e,
            "the file is not UTF-8 text (the first character that is not is on line 2): save it as \"CSV UTF-8\""
        );
        let e = one_error(parse_csv(b"\xFF\xFEi\x00d\x00", soc2()));
        assert!(e.contains("UTF-16"), "{e}");
    }

    #[test]
    fn a_file_without_a_header_is_refused_clearly() {
        let e = one_error(csv("X-1,Access review,weekly,manual,CC6.1\n"));
        assert_eq!(
            e,
            "the first row is not a header: expected column names such as id, name, frequency, nature, criteria (found 'X-1', 'Access review', 'weekly', 'manual', 'CC6.1')"
        );
        let e = one_error(csv(
            "Acme: control matrix\nGenerated 2025-01-01\nid,name,frequency,nature,criteria\nX-1,n,weekly,manual,CC6.1\n",
        ));
        assert_eq!(
            e,
            "the header must be on row 1, but row 3 looks like the header: delete the rows above it"
        );
        let e = one_error(csv("- id: X-1\n  name: n\n"));
        assert_eq!(
            e,
            "this looks like YAML, not CSV: upload it as a .yaml file"
        );
        let e = one_error(csv("<html><body>hi</body></html>"));
        assert!(e.contains("HTML"), "{e}");
    }

    // ----- export and round trip

    #[test]
    fn export_then_import_round_trips() {
        let mut tricky = matrix_row("IAM-02");
        tricky.name = "Reviews, \"quoted\" and ünïcødé — ✓".into();
        tricky.description =
            "First line, with a comma.\nSecond line with \"quotes\";\nThird: =SUM(A1:A2)\r\nFourth"
                .into();
        tricky.frequency = "quarterly; per_event".into();
        tricky.evidence = "ticket export; sign-off, dated".into();
        tricky.backup_owner = "grace@example.com".into();
        let mut formula = matrix_row("OPS-09");
        formula.name = "=HYPERLINK(\"https://example.com\")".into();
        formula.description = "'-already quoted".into();
        formula.domain = "@ops".into();
        formula.applicable = false;
        formula.na_justification = "- no servers, \"none\"".into();
        let rows = vec![matrix_row("IAM-01"), tricky, formula];

        let bytes = to_csv(&rows);
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with(
            "id,name,description,owner,frequency,nature,criteria,status,backup_owner,domain,evidence,applicable,na_justification\r\n"
        ));
        assert!(text.contains(",\"'=HYPERLINK("), "{text}");

        let back = parse_csv(&bytes, soc2()).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(
            back.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        for (orig, imp) in rows.iter().zip(&back) {
            let i = &imp.input;
            let again = MatrixRow {
                id: i.id.clone(),
                name: i.name.clone(),
                description: i.description.clone(),
                domain: i.domain.clone(),
                owner: imp.owner_email.clone().unwrap_or_default(),
                backup_owner: imp.backup_owner_email.clone().unwrap_or_default(),
                frequency: i
                    .frequencies
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(LIST_SEPARATOR),
                nature: i.nature.as_str().into(),
                criteria: i.criteria.join(LIST_SEPARATOR),
                evidence: i.evidence.join(LIST_SEPARATOR),
                applicable: imp.applicable,
                na_justification: imp.na_justification.clone().unwrap_or_default(),
                status: orig.status.clone(),
            };
            assert_eq!(&again, orig);
        }
    }

    #[test]
    fn matrix_rows_come_from_stored_controls() {
        let lib = crate::controls::soc2_starter();
        let input = ControlInput::from_library(&lib.controls[0]);
        let c = Control {
            id: input.id.clone(),
            name: input.name.clone(),
            description: input.description.clone(),
            domain: input.domain.clone(),
            owner_role: input.owner_role.clone(),
            owner_id: Some("u1".into()),
            backup_owner_id: None,
            frequencies: vec![Frequency::Annual, Frequency::PerEvent],
            nature: input.nature,
            evidence: vec!["a".into(), "b".into()],
            criteria: vec!["CC1.1".into(), "CC2.2".into()],
            applicable: true,
            na_justification: Some("stale".into()),
            source: "library".into(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        let m = MatrixRow::from_control(&c, Some("ada@example.com"), None, "Not started");
        assert_eq!(m.frequency, "annual; per_event");
        assert_eq!(m.criteria, "CC1.1; CC2.2");
        assert_eq!(m.evidence, "a; b");
        assert_eq!(m.owner, "ada@example.com");
        assert_eq!(m.backup_owner, "");
        assert_eq!(m.na_justification, "");
        assert_eq!(m.cells().len(), MATRIX_COLUMNS.len());
        assert_eq!(m.cells()[11], "yes");
    }

    #[test]
    fn the_library_round_trips_through_csv() {
        let lib = crate::controls::soc2_starter();
        let rows: Vec<MatrixRow> = lib
            .controls
            .iter()
            .map(|l| {
                let c = Control {
                    id: l.id.clone(),
                    name: l.name.clone(),
                    description: l.description.clone(),
                    domain: l.domain.clone(),
                    owner_role: l.owner_role.clone(),
                    owner_id: None,
                    backup_owner_id: None,
                    frequencies: l.frequencies.clone(),
                    nature: l.nature,
                    evidence: l.evidence.clone(),
                    criteria: l.criteria.clone(),
                    applicable: true,
                    na_justification: None,
                    source: "library".into(),
                    created_at: String::new(),
                    updated_at: String::new(),
                };
                MatrixRow::from_control(&c, None, None, "Not started")
            })
            .collect();
        let back = parse_csv(&to_csv(&rows), soc2()).unwrap();
        assert_eq!(back.len(), lib.controls.len());
        for (l, r) in lib.controls.iter().zip(&back) {
            let expected = ControlInput::from_library(l).validate(soc2()).unwrap();
            assert_eq!(r.input.id, expected.id);
            assert_eq!(r.input.criteria, expected.criteria);
            assert_eq!(r.input.frequencies, expected.frequencies);
            assert_eq!(r.input.evidence, expected.evidence, "{}", l.id);
        }
    }

    #[test]
    fn errors_display_and_serialise_their_place() {
        let e = ImportError::at(4, "criteria", "'CC99.1' is not a SOC 2 criterion id");
        assert_eq!(
            e.to_string(),
            "row 4, column criteria: 'CC99.1' is not a SOC 2 criterion id"
        );
        assert_eq!(ImportError::row(3, "x").to_string(), "row 3: x");
        assert_eq!(ImportError::file("x").to_string(), "x");
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["row"], 4);
        assert_eq!(j["column"], "criteria");
    }

    // ----- YAML

    #[test]
    fn a_good_yaml_list_imports() {
        let y = "\
# our controls
- id: iam-01
  name: Access review
  description: |
    Review every account.
    Sign off.
  owner: Ada@Example.com
  frequencies: [quarterly, per-event]
  nature: manual
  criteria: [CC6.1, cc6.2]
  evidence:
    - review export
    - sign-off
- id: OPS-02
  name: Backups
  frequency: daily
  nature: automated
  criteria: A1.2; A1.3
  applicable: false
  na_justification: No servers
  status: whatever
";
        let rows = parse_yaml(y.as_bytes(), soc2()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 1);
        assert_eq!(rows[0].input.id, "IAM-01");
        assert_eq!(
            rows[0].input.description,
            "Review every account.\nSign off."
        );
        assert_eq!(
            rows[0].input.frequencies,
            vec![Frequency::Quarterly, Frequency::PerEvent]
        );
        assert_eq!(rows[0].input.criteria, vec!["CC6.1", "CC6.2"]);
        assert_eq!(rows[0].input.evidence, vec!["review export", "sign-off"]);
        assert_eq!(rows[0].owner_email.as_deref(), Some("ada@example.com"));
        assert_eq!(rows[1].row, 2);
        assert_eq!(rows[1].input.criteria, vec!["A1.2", "A1.3"]);
        assert!(!rows[1].applicable);
        assert_eq!(rows[1].na_justification.as_deref(), Some("No servers"));

        let wrapped = format!(
            "controls:\n{}",
            y.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        );
        assert_eq!(parse_yaml(wrapped.as_bytes(), soc2()).unwrap(), rows);
    }

    #[test]
    fn yaml_problems_name_the_item_and_key() {
        let y = "\
- id: X-1
  name: n
  frequencies: [weekly]
  nature: manual
  criteria: [CC6.1]
- id: X-2
  name: n
  frequencies: [fortnightly]
  nature: manual
  criteria: [CC99.1]
  colour: red
- id: x-1
  name: [a, b]
  frequencies: weekly
  frequency: daily
  nature: manual
  criteria: CC6.1
- just a string
- id: X-5
  name: n
  frequencies: weekly
  nature: manual
  criteria: [CC6.1]
  applicable: false
";
        let e = errors(parse_yaml(y.as_bytes(), soc2()));
        assert_eq!(
            e,
            vec![
                format!(
                    "row 2, column colour: unknown key 'colour': the keys are {}",
                    known_columns("key")
                ),
                "row 2, column frequencies: 'fortnightly' is not a frequency: use continuous, daily, weekly, monthly, quarterly, annual, per_event".into(),
                "row 2, column criteria: 'CC99.1' is not a SOC 2 criterion id".into(),
                "row 3, column frequency: 'frequencies' and 'frequency' are the same field: give it once".into(),
                "row 3, column id: 'X-1' is already used on item 1: each control id must be unique".into(),
                "row 3, column name: expected one value, not a list".into(),
                "row 4: expected a map of fields (id, name, frequencies, nature, criteria, …)".into(),
                "row 5, column na_justification: is required when the control is not applicable: say why it does not apply".into(),
            ]
        );
        assert!(known_columns("key").contains("frequencies"));
    }

    #[test]
    fn yaml_of_the_wrong_shape_is_refused_clearly() {
        let cases: &[(&str, &str)] = &[
            ("", "the file is empty"),
            ("# nothing\n", "the file is empty"),
            ("[]", "the list of controls is empty"),
            ("id: X-1\nname: n\n", "the file holds a single control"),
            ("controls: 3\n", "'controls' must be a list"),
            ("controls: []\nextra: 1\n", "unknown top-level key 'extra'"),
            ("just text", "expected a list of controls"),
            (
                "id,name,frequency\nX,n,weekly\n",
                "this looks like CSV, not YAML",
            ),
            ("- id: [unclosed\n", "the file is not valid YAML"),
        ];
        for (y, want) in cases {
            let e = one_error(parse_yaml(y.as_bytes(), soc2()));
            assert!(e.contains(want), "{y:?}: {e}");
        }
        let e = one_error(parse_yaml(b"PK\x03\x04xl/workbook.xml", soc2()));
        assert!(
            e.starts_with("this looks like an XLSX workbook, not YAML"),
            "{e}"
        );
    }

    #[test]
    fn yaml_reads_no_as_a_word_and_refuses_alias_bombs() {
        // YAML 1.2: `no` is text (and `applicable: no` still means not applicable).
        assert_eq!(
            serde_norway::from_str::<serde_norway::Value>("no").unwrap(),
            serde_norway::Value::String("no".into())
        );
        let y = "- id: X-1\n  name: n\n  frequencies: weekly\n  nature: manual\n  criteria: CC6.1\n  applicable: no\n  na_justification: none here\n";
        assert!(!parse_yaml(y.as_bytes(), soc2()).unwrap()[0].applicable);
        // "Billion laughs": nine levels of nine aliases.
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (prev, next) in ('a'..='h').zip('b'..='i') {
            bomb.push_str(&format!(
                "{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        let e = one_error(parse_yaml(bomb.as_bytes(), soc2()));
        assert!(e.starts_with("the file is not valid YAML"), "{e}");
    }

    #[test]
    fn parse_any_chooses_by_name_then_by_content() {
        let c = "id,name,frequency,nature,criteria\nX-1,n,weekly,manual,CC6.1\n";
        let y =
            "- id: X-1\n  name: n\n  frequencies: weekly\n  nature: manual\n  criteria: CC6.1\n";
        let cat = soc2();
        let a = parse_any(Some("controls.CSV"), c.as_bytes(), cat).unwrap();
        let b = parse_any(Some("controls.yml"), y.as_bytes(), cat).unwrap();
        let c2 = parse_any(None, c.as_bytes(), cat).unwrap();
        let y2 = parse_any(Some("upload"), y.as_bytes(), cat).unwrap();
        assert_eq!(a[0].input, b[0].input);
        assert_eq!(c2[0].input, y2[0].input);
        assert_eq!(c2[0].row, 2);
        assert_eq!(y2[0].row, 1);
        let e = one_error(parse_any(Some("m.json"), br#"{"controls": []}"#, cat));
        assert!(
            e.starts_with("this looks like JSON, not CSV or YAML"),
            "{e}"
        );
        let e = one_error(parse_any(Some("matrix.xlsx"), b"PK\x03\x04xl/", cat));
        assert!(
            e.starts_with("this looks like an XLSX workbook, not CSV or YAML"),
            "{e}"
        );
        let e = one_error(parse_any(Some("controls.csv"), y.as_bytes(), cat));
        assert!(e.contains("looks like YAML"), "{e}");
    }

    #[test]
    fn column_letters_and_suggestions() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(27), "AB");
        assert_eq!(suggest("Critera"), Some("criteria"));
        assert_eq!(suggest("frequncy"), Some("frequency"));
        assert_eq!(suggest("colour"), None);
    }
}
