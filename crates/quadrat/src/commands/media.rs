//! `quadrat media …`

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadrat_store::MediaStore;

use crate::cli::{MediaCommand, MigrateTarget};
use crate::config::Config;

pub async fn run(config: &Config, cmd: MediaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MediaCommand::Migrate {
            to: MigrateTarget::S3,
        } => migrate_to_bucket(config).await,
    }
}

async fn migrate_to_bucket(config: &Config) -> anyhow::Result<ExitCode> {
    let from = MediaStore::folder(config.media_dir());
    let to = config.bucket_store()?;
    let bar = bar();
    let report = from
        .copy_all_to(&to, |at| {
            bar.set_length(at.bytes_total);
            bar.set_position(at.bytes_done);
            bar.set_message(format!("{}/{} files", at.files_done, at.files_total));
        })
        .await
        .with_context(|| format!("copying {} to {}", from.describe(), to.describe()))?;
    bar.finish_and_clear();
    outln!(
        "{} files copied, {} already there ({} bytes in all) from {} to {}",
        report.copied,
        report.skipped,
        report.bytes,
        from.describe(),
        to.describe()
    );
    Ok(ExitCode::SUCCESS)
}

fn bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
