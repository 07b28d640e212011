//! What the integration tests share: the HTTP harness (`http`) of `tests/api.rs` and
//! `tests/controls_api.rs`, and the real-browser harness (`browser`) of `tests/browser.rs` and
//! `tests/browser_controls.rs`. Each test file is its own crate and pulls this in with
//! `mod support;`, so helpers one crate does not use are allowed to go unused.
#![allow(dead_code)]

#[cfg(unix)]
pub mod browser;
pub mod http;

/// The columns the issue names for the auditor's control matrix export, in order.
pub const MATRIX_HEAD: [&str; 8] = [
    "id",
    "name",
    "description",
    "owner",
    "frequency",
    "nature",
    "criteria",
    "status",
];

/// Splits CSV text into records (quoted fields may hold commas, quotes and newlines).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if quoted {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else {
            match ch {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                c => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
