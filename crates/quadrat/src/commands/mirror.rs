//! `quadrat mirror`: the options read (the secret from a file or the environment), the mirror
//! of `quadrat-app` run with progress bars on stderr (a log line every 10 s when stderr is not a
//! terminal), and the summary printed. Exit codes: 0 done; 2 done with warnings; 3 stopped by
//! the remote's rate limits (resumable); 1 error.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadrat_app::App;
use quadrat_app::mirror::{
    MirrorError, MirrorOptions, MirrorProgress, MirrorReport, MirrorSource, Rates, TokenCache,
};
use quadrat_core::entry::MediaKind;

use crate::cli::MirrorArgs;
use crate::failure::{Failure, cli_error};

/// The environment variable holding the client secret.
const SECRET_ENV: &str = "QUADRAT_MIRROR_CLIENT_SECRET";

pub async fn run(app: App, args: MirrorArgs) -> anyhow::Result<ExitCode> {
    let code = if args.url.as_deref() == Some("status") {
        status(&app, args.status_slug.as_deref()).await
    } else {
        mirror(&app, args).await
    };
    app.store.close().await;
    code
}

async fn mirror(app: &App, args: MirrorArgs) -> anyhow::Result<ExitCode> {
    let usage = |text: String| Failure::message(text).exit(1);
    let source = match (&args.url, &args.local) {
        (Some(url), None) => MirrorSource::Url(url.clone()),
        (None, Some(local)) => MirrorSource::Local(local.clone()),
        _ => {
            return Err(usage(
                "give the project's URL (https://HOST/project/SLUG) or --local SLUG".into(),
            )
            .into());
        }
    };
    if args.status_slug.is_some() {
        return Err(usage("one URL only (or `quadrat mirror status SLUG`)".into()).into());
    }
    let client_secret = match &args.client_secret_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => std::env::var(SECRET_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty()),
    };
    let opts = MirrorOptions {
        source,
        client_id: args.client_id.clone(),
        local_slug: args.local_slug.clone(),
        client_secret,
        media: parse_media(&args.media).map_err(usage)?,
        full: args.full,
        reconcile: args.reconcile,
        overlap: parse_duration(&args.overlap).map_err(usage)?,
        max_wait: parse_duration(&args.max_wait).map_err(usage)?,
        rates: match &args.rate {
            Some(r) => Rates::parse(r).map_err(usage)?,
            None => Rates::default(),
        },
        owner: args.owner.clone(),
        unlocked: match (args.unlocked, args.locked) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        dry_run: args.dry_run,
        tokens: TokenCache::new(TokenCache::default_path()),
        per_page: args.per_page.clamp(1, 1000),
        use_changes_feed: !args.no_changes_feed,
    };
    if opts.client_id.is_some() {
        eprintln!(
            "note: the remote may revoke a client's other tokens when it issues one: another \
             program using this client app can be logged out by this run, and vice versa"
        );
    }
    let progress = Bars::new();
    let outcome = app.mirror(&opts, &progress).await;
    progress.clear();
    match outcome {
        Ok(report) => {
            // Nobody reading the summary changes nothing: the report file and the exit code
            // are still written and told.
            let _ = print_summary(&report);
            if let Some(path) = &args.report {
                let text = serde_json::to_string_pretty(&report)? + "\n";
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(if report.has_warnings() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e @ MirrorError::RateLimited { .. }) => {
            Err(Failure::message(e.to_string()).exit(3).into())
        }
        Err(MirrorError::App(e)) => Err(cli_error(e)),
        Err(e) => Err(Failure::message(e.to_string()).into()),
    }
}

async fn status(app: &App, slug: Option<&str>) -> anyhow::Result<ExitCode> {
    let slugs: Vec<String> = match slug {
        Some(s) => vec![s.to_string()],
        None => app
            .list_projects()
            .await
            .map_err(cli_error)?
            .into_iter()
            .map(|p| p.slug)
            .collect(),
    };
    let mut shown = 0;
    for slug in slugs {
        let Some((source, state)) = app.mirror_status(&slug).await.map_err(cli_error)? else {
            continue;
        };
        shown += 1;
        let pending = state
            .media
            .values()
            .filter(|m| m.status != quadrat_app::mirror::state::MediaStatus::Done)
            .count();
        let last = if source.last_run == 0 {
            "never finished".to_string()
        } else {
            quadrat_core::time::iso_zero_millis(source.last_run)
        };
        outln!(
            "{slug} ← {}/project/{} ({}, last run {last}, {}, {pending} media file(s) not stored)",
            source.remote_base,
            source.remote_slug,
            if source.unlocked == 1 {
                "unlocked"
            } else {
                "uploads refused"
            },
            match &state.cursor {
                Some(_) => "changes cursor stored".to_string(),
                None => format!("{} stream mark(s)", state.streams.len()),
            }
        );
    }
    if shown == 0 {
        let what = match slug {
            Some(s) => format!("{s} is not a mirrored project"),
            None => "no mirrored projects".to_string(),
        };
        outln!("{what}");
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_media(text: &str) -> Result<Vec<MediaKind>, String> {
    match text.trim() {
        "all" => return Ok(MediaKind::ALL.to_vec()),
        "none" => return Ok(Vec::new()),
        _ => {}
    }
    text.split(',')
        .map(|k| {
            MediaKind::parse(k.trim()).ok_or_else(|| {
                format!("--media: {k:?} is not all, none, or a list of photo, audio, video")
            })
        })
        .collect()
}

/// `90`, `90s`, `5m`, `5min`, `2h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 120s, 15m, 1h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{text:?} is not a duration (e.g. 120s, 15m, 1h)")),
    };
    Ok(Duration::from_secs(secs))
}

/// Bars on a terminal; otherwise a log line every 10 s.
struct Bars {
    tty: bool,
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    status: ProgressBar,
    last_log: Mutex<Option<Instant>>,
}

impl Bars {
    fn new() -> Bars {
        let tty = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let status = multi.add(ProgressBar::new_spinner());
        Bars {
            tty,
            multi,
            bars: Mutex::new(HashMap::new()),
            status,
            last_log: Mutex::new(None),
        }
    }

    fn bar(&self, name: &str, total: Option<u64>, template: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars
            .entry(name.to_string())
            .or_insert_with(|| {
                let bar = self.multi.insert_before(&self.status, ProgressBar::new(0));
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                bar.set_prefix(name.to_string());
                bar
            })
            .clone();
        if let Some(t) = total {
            bar.set_length(t);
        }
        bar
    }

    /// A log line when stderr is not a terminal, at most every 10 s.
    fn log(&self, line: String, force: bool) {
        if self.tty {
            return;
        }
        let mut last = self.last_log.lock().unwrap_or_else(|e| e.into_inner());
        if force || last.is_none_or(|l| l.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            eprintln!("{line}");
        }
    }

    fn clear(&self) {
        for bar in self.bars.lock().unwrap_or_else(|e| e.into_inner()).values() {
            bar.finish();
        }
        self.status.finish_and_clear();
    }
}

impl MirrorProgress for Bars {
    fn stream(&self, name: &str, read: u64, total: Option<u64>) {
        let bar = self.bar(name, total, "{prefix:>24} {wide_bar} {pos}/{len}");
        bar.set_position(read);
        let of = total.map(|t| format!("/{t}")).unwrap_or_default();
        self.log(format!("{name}: {read}{of}"), false);
    }

    fn media(&self, done: u64, total: u64) {
        let bar = self.bar(
            "media",
            Some(total),
            "{prefix:>24} {wide_bar} {pos}/{len} ({eta})",
        );
        bar.set_position(done);
        self.log(format!("media: {done}/{total}"), false);
    }

    fn waiting(&self, why: &str, wait: Duration) {
        let text = format!("waiting {} s: {why}", wait.as_secs());
        self.status.set_message(text.clone());
        self.log(text, true);
    }

    fn note(&self, text: &str) {
        let _ = self.multi.println(text);
        self.log(text.to_string(), true);
    }
}

fn print_summary(r: &MirrorReport) -> std::io::Result<()> {
    if let Some(plan) = &r.plan {
        outln!("{} → {}", r.source, plan);
        return Ok(());
    }
    let secs = r.duration_ms / 1000;
    outln!(
        "Mirrored {} → {} ({}, {}, {}m{:02}s)",
        r.source,
        r.local_slug,
        r.mode,
        r.via,
        secs / 60,
        secs % 60
    );
    let requests: Vec<String> = r
        .requests
        .requests
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let q = &r.requests;
    outln!(
        "  requests        {} · 429s {} (waited {} s) · paced {} s · retried {} (backed off {} s)",
        requests.join(" · "),
        q.rate_limited,
        q.waited_ms / 1000,
        q.paced_ms / 1000,
        q.retried,
        q.backoff_ms / 1000
    );
    for (name, s) in &r.streams {
        outln!(
            "  {name:<15} {:>7} read {:>7} new {:>5} updated {:>5} deleted {:>7} unchanged",
            s.read,
            s.new,
            s.updated,
            s.deleted,
            s.unchanged
        );
    }
    let m = &r.media;
    outln!(
        "  media           {} downloaded ({} bytes) · {} missing on remote · {} failed · {} left",
        m.downloaded,
        m.bytes,
        m.missing,
        m.failed,
        m.left
    );
    let lost = &r.reconstruction;
    outln!(
        "  reconstruction  {} ambiguous labels · {} partial dates (MM/YYYY, dd/MM) · {} placeholder users",
        lost.ambiguous_labels,
        lost.partial_dates,
        r.users_created
    );
    for row in &r.refused {
        let errors: Vec<String> = row.errors.iter().map(ToString::to_string).collect();
        outln!("  refused         {}: {}", row.uuid, errors.join("; "));
    }
    for w in &r.warnings {
        outln!("  warning         {w}");
    }
    outln!("  next run        {}", r.next_run);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_media_choices_parse() {
        assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_media("none"), Ok(vec![]));
        assert_eq!(
            parse_media("photo,video"),
            Ok(vec![MediaKind::Photo, MediaKind::Video])
        );
        assert!(parse_media("photos").is_err());
    }
}
