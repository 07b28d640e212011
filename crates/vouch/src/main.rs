//! The `vouch` binary: command line, configuration, start-up.
#![forbid(unsafe_code)]

mod bench;
mod bench_import;
mod bench_upload;
mod cli;
mod collect_cli;
mod config;
mod controls_cli;
mod demo;
mod evidence_cli;
mod output;
mod serve;
mod test_cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
