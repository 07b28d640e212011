//! Writes the sample company: `cargo run -p vouch-sample --example write -- DIR [demo|large] [SEED] [YYYY-MM-DD]`.
//! Prints the manifest as JSON.
use time::macros::format_description;
use vouch_sample::{Size, write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: write DIR [demo|large] [SEED] [YYYY-MM-DD]")?;
    let size = match args.next().as_deref() {
        None | Some("demo") => Size::demo(),
        Some("large") => Size::large(),
        Some(other) => return Err(format!("unknown size '{other}': demo or large").into()),
    };
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let today = match args.next() {
        Some(d) => time::Date::parse(&d, format_description!("[year]-[month]-[day]"))?,
        None => time::macros::date!(2026 - 11 - 23),
    };
    let manifest = write(std::path::Path::new(&dir), &size, seed, today)?;
    println!("{}", serde_json::to_string_pretty(&manifest)?);
    Ok(())
}
