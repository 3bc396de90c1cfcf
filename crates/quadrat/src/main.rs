//! `quadrat`: the server and its administration commands, in one binary.

// First: its macro is used by the modules after it.
#[macro_use]
mod out;

mod backup_archive;
mod cli;
mod commands;
mod config;
mod deployment;
mod failure;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// jemalloc instead of the system allocator: glibc's malloc and free (with its consolidation
/// of freed chunks) took about a quarter of a bulk import's time and a tenth of an upload's.
/// Its settings are in `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let as_json = commands::prints_json(&cli.command);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(commands::run(cli)));
    match result {
        Ok(code) => code,
        Err(e) if out::reader_gone(&e) => ExitCode::SUCCESS,
        Err(e) => failure::print(&e, as_json),
    }
}
