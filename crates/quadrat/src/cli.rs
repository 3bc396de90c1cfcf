//! The command line.

use std::path::PathBuf;

use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand};
use quadrat_core::project_state::{ProjectAccess, ProjectState, SettingField};

use crate::config::Overrides;

/// Quadrat: a self-hostable server that speaks Epicollect5.
#[derive(Debug, Parser)]
#[command(name = "quadrat", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives. Each also reads its `QUADRAT_*` environment variable and
/// `quadrat.toml` in the data directory.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Data directory (database, media, keys, quadrat.toml) [env: QUADRAT_DATA_DIR]
    /// [default: ./quadrat-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [env: QUADRAT_DATABASE_URL]
    /// [default: the SQLite file in the data directory]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Overrides::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (creates the data directory and database on first start)
    Serve(ServeArgs),
    /// Apply database migrations and exit
    Migrate,
    /// Manage projects
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage user accounts (who may log in from the mobile app)
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Manage a project's client app (the OAuth client of the export API)
    #[command(subcommand)]
    App(AppCommand),
    /// Manage the keys that sign access tokens
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage entries
    #[command(subcommand)]
    Entries(EntriesCommand),
    /// Manage a project's mappings (the column and answer names of the entries export)
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Manage the media store (photos, audio, video, logos)
    #[command(subcommand)]
    Media(MediaCommand),
    /// Manage the changes feed (GET /api/export/changes/{slug})
    #[command(subcommand)]
    Changes(ChangesCommand),
    /// Copy the SQLite database (and with --media the media folder) into one archive; safe
    /// while the server runs (PostgreSQL: use pg_dump)
    Backup {
        /// The archive to write (a tar; never overwritten)
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Add the media folder (photos, audio, video) to the archive
        #[arg(long)]
        media: bool,
    },
    /// Put a backup archive back into an empty (or new) data directory
    Restore {
        /// The archive `quadrat backup` wrote
        file: PathBuf,
    },
    /// Copy a project from any Epicollect5-compatible server (five.epicollect.net or another
    /// Quadrat) by its public API: definition, mappings, entries, branch entries, media. Later
    /// runs are incremental and a killed run resumes. The copy refuses uploads unless
    /// --unlocked. `quadrat mirror status [SLUG]` shows the mirrors.
    Mirror(MirrorArgs),
}

#[derive(Debug, Clone, Args)]
pub struct MirrorArgs {
    /// The project's homepage URL on the remote (https://HOST/project/SLUG), or `status`
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// With `status`: the local mirror to show (all mirrors when absent)
    #[arg(value_name = "SLUG")]
    pub status_slug: Option<String>,
    /// Re-run the local mirror SLUG from its stored source (for cron)
    #[arg(long, value_name = "SLUG", conflicts_with = "url")]
    pub local: Option<String>,
    /// The local slug of a new mirror, when the remote name's slug is taken here by another
    /// project (later runs: `--local SLUG`)
    #[arg(long, value_name = "SLUG", conflicts_with = "local")]
    pub local_slug: Option<String>,
    /// The client id of the project's client app (private projects)
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// A file holding the client secret (or the environment variable
    /// QUADRAT_MIRROR_CLIENT_SECRET; never given on the command line)
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Media to copy: all, none, or a list of photo, audio, video
    #[arg(long, default_value = "all", value_name = "WHICH")]
    pub media: String,
    /// Read everything again (the marks or the changes cursor are forgotten)
    #[arg(long)]
    pub full: bool,
    /// Walk every stream for deletions even when the counts agree
    #[arg(long)]
    pub reconcile: bool,
    /// How far before the last row read the next run starts (e.g. 120s, 5m)
    #[arg(long, default_value = "120s", value_name = "DURATION")]
    pub overlap: String,
    /// A Retry-After longer than this stops the run (exit 3; the next run resumes)
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub max_wait: String,
    /// The remote's limits, e.g. entries=60/min,project=60/min,media=30/min,token=10/h (paced
    /// at 90 %)
    #[arg(long, value_name = "LIMITS")]
    pub rate: Option<String>,
    /// The local owner of a new mirror (a user's e-mail)
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Let the mirror take uploads like any project (its copy then diverges from the remote)
    #[arg(long, conflicts_with = "locked")]
    pub unlocked: bool,
    /// Refuse uploads again (the default of a new mirror)
    #[arg(long)]
    pub locked: bool,
    /// Print the requests and time the limits imply; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the summary as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Rows per page asked of the remote (its maximum is 1000)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub per_page: u32,
    /// Walk the entries export even when the remote has Quadrat's changes feed
    #[arg(long)]
    pub no_changes_feed: bool,
}

#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// Renew the feed's epoch: every cursor handed out before answers 410 and its client walks
    /// the feed again. `quadrat restore` does this itself; use it after restoring a database
    /// by other means (pg_restore, a copied file)
    Reset {
        /// Only this project (default: every project)
        #[arg(long, value_name = "SLUG")]
        project: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Copy every file of the media folder into the bucket of [media] (bucket, prefix,
    /// endpoint, credentials), under the same keys. Files the bucket holds already at the same
    /// size are skipped, so an interrupted copy resumes where it stopped; each copied file is
    /// checked by size. Switch the server to the bucket ([media] store = "s3") afterwards.
    Migrate {
        /// Where to copy to
        #[arg(long, value_enum)]
        to: MigrateTarget,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateTarget {
    /// The S3-compatible bucket of [media]
    S3,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["file", "remove"])))]
pub struct LogoArgs {
    /// Project slug (or name)
    pub slug: String,
    /// The image: JPEG, PNG or GIF, at most 5000 KB and 4096 px a side (stored as a 512x512 JPEG)
    pub file: Option<PathBuf>,
    /// Remove the logo: the project's default logo (its initials) is served instead
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create the project's client app and print its client id and secret (shown only now)
    Create {
        /// Project slug (or name)
        slug: String,
        /// App name: 3–50 letters, digits, underscores or spaces
        #[arg(long)]
        name: String,
        /// Print {"client_id":N,"client_secret":"…"}
        #[arg(long)]
        json: bool,
    },
    /// Show the project's client app (never its secret)
    Show {
        /// Project slug (or name)
        slug: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke every access token of the project's client app
    RevokeTokens {
        /// Project slug (or name)
        slug: String,
    },
    /// Give the project's client app a new secret (the old one stops working)
    RotateSecret {
        /// Project slug (or name)
        slug: String,
        /// Print {"client_id":N,"client_secret":"…"}
        #[arg(long)]
        json: bool,
    },
    /// Delete the project's client app; its tokens stop working
    Delete {
        /// Project slug (or name)
        slug: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate the RSA key pair that signs access tokens (refuses to replace one without --force)
    Generate {
        /// Replace the existing pair; its public key is kept so tokens it signed stay valid until
        /// they expire
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EntriesCommand {
    /// Delete entries, without asking: an entry goes with its child entries (any depth), their
    /// branch entries and all their media files; every count is kept right. Prints what it
    /// deleted.
    #[command(group(ArgGroup::new("what").required(true).args(["uuid", "all"])))]
    Delete(DeleteEntriesArgs),
    /// Import entries from a CSV file (the bulk-upload template: the export mapping's column
    /// names, choices by their labels, locations as lat_X/long_X/accuracy_X) or a JSON lines
    /// file of upload bodies. Every row is checked as an upload from the app is; rejected rows
    /// are reported with their line number and do not stop the others. Exits 0 when every row
    /// was stored, 1 when any row was rejected (or nothing was stored, with --all-or-nothing),
    /// 2 for a file that cannot be imported at all (unknown column, unreadable file).
    Import(ImportEntriesArgs),
    /// Export every entry of a form (or every branch entry of a branch input) as CSV or JSON,
    /// oldest first, in constant memory whatever the size. CSV: one header row, then a row per
    /// entry. JSON: one array of entry objects (the API's entry objects), one per line.
    Export(ExportEntriesArgs),
}

#[derive(Debug, Args)]
pub struct ImportEntriesArgs {
    /// Project slug (or name)
    pub slug: String,
    /// The file: CSV, or JSON lines when it ends in .jsonl, .ndjson or .json (see --format)
    pub file: std::path::PathBuf,
    /// CSV: the form of the rows, by ref or name [default: the first form]
    #[arg(long, value_name = "REF")]
    pub form: Option<String>,
    /// CSV: import branch entries of this branch input of --form (ref or question)
    #[arg(long, value_name = "REF", requires = "owner_uuid")]
    pub branch: Option<String>,
    /// CSV: the owner entry of every branch row (a row's ec5_branch_owner_uuid column wins)
    #[arg(long, value_name = "UUID")]
    pub owner_uuid: Option<String>,
    /// CSV: the parent entry of every child-form row (a row's ec5_parent_uuid column wins)
    #[arg(long, value_name = "UUID")]
    pub parent_uuid: Option<String>,
    /// CSV: the map whose column names and labels the file uses [default: the default map]
    #[arg(long, value_name = "N")]
    pub map_index: Option<usize>,
    /// The file's format [default: from its extension]
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Store nothing when any row is rejected
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Print {"accepted","rejected","errors":[{"line","errors":[{code,title,source}]}]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportEntriesArgs {
    /// Project slug (or name)
    pub slug: String,
    /// The form to export (a form ref) [default: the first form]
    #[arg(long, value_name = "REF")]
    pub form: Option<String>,
    /// Export the branch entries of this branch input (of `--form`) instead
    #[arg(long, value_name = "REF")]
    pub branch: Option<String>,
    /// Output format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The mapping to apply [default: the project's default mapping]
    #[arg(long, value_name = "N")]
    pub map_index: Option<usize>,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Print the changes feed from this cursor instead (`start` for the beginning): every page
    /// of `GET /api/export/changes/{slug}` up to the latest change, one per line (JSON), or
    /// the rows (CSV, which needs `--form`); the last page's `next_cursor` resumes
    #[arg(long, value_name = "CURSOR")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    /// A GeoJSON FeatureCollection of the entries with a location (Quadrat extension)
    Geojson,
}

#[derive(Debug, Args)]
pub struct DeleteEntriesArgs {
    /// Project slug (or name)
    pub slug: String,
    /// The entry or branch entry to delete
    #[arg(long, value_name = "UUID")]
    pub uuid: Option<String>,
    /// The form whose entries `--all` deletes (a form ref)
    #[arg(long, value_name = "FORM_REF", requires = "all")]
    pub form: Option<String>,
    /// Delete every entry of `--form`
    #[arg(long, requires = "form")]
    pub all: bool,
    /// Print {"entries","branch_entries","files"} instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: QUADRAT_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public base URL of this server, used in project homepages [env: QUADRAT_PUBLIC_URL]
    /// [default: http://<listen>]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Seed a demo project (if not there yet) and print requests to try
    #[arg(long)]
    pub demo: bool,
    /// Switch every rate limit off (benchmarks, trusted networks) [config: rate_limits.enabled]
    #[arg(long)]
    pub no_rate_limits: bool,
    /// `safe` (the default): every acknowledged write survives a power cut; `relaxed`: faster
    /// on SQLite, survives a killed process but may lose the last writes in a power cut
    /// (docs/durability.md) [config: durability] [env: QUADRAT_DURABILITY]
    #[arg(long, value_name = "MODE")]
    pub durability: Option<quadrat_store::Durability>,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Import a project definition file as Epicollect5 downloads it
    Import(ImportArgs),
    /// List projects
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Write a project's definition file (re-importable) to stdout or a file
    Export {
        /// Project slug (or name)
        slug: String,
        /// Write to this file instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write the whole project's entries as one zip: a CSV (or JSON) file per form and per
    /// branch, named as Epicollect5's download names them, optionally with the media files
    Download {
        /// Project slug (or name)
        slug: String,
        /// The zip file to write
        #[arg(short, long, value_name = "FILE.zip")]
        output: PathBuf,
        /// JSON files instead of CSV
        #[arg(long)]
        json: bool,
        /// The map whose column names to use (default: the project's default map)
        #[arg(long, value_name = "N")]
        map_index: Option<usize>,
        /// Add the photos, audio and video files under media/
        #[arg(long)]
        media: bool,
    },
    /// Set a project's access, visibility or status
    Set {
        /// Project slug (or name)
        slug: String,
        /// What to set
        #[arg(value_parser = state::<SettingField>())]
        field: SettingField,
        /// access: public|private; visibility: listed|hidden; status: active|locked|trashed
        value: String,
    },
    /// Delete a project with everything it holds
    Delete {
        /// Project slug (or name)
        slug: String,
    },
    /// Set or remove a project's logo (what the app and project pages show)
    Logo(LogoArgs),
    /// Manage who holds which role on a project
    #[command(subcommand)]
    Member(crate::commands::member::MemberCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The definition file (`{"data":{"id","type":"project","project":{…}}}`)
    pub file: PathBuf,
    /// Project name (the slug follows it) instead of the file's
    #[arg(long)]
    pub name: Option<String>,
    /// Access instead of the file's
    #[arg(long, value_parser = state::<ProjectAccess>())]
    pub access: Option<ProjectAccess>,
    /// Give the project, its forms and inputs fresh refs (as the real server's web import does);
    /// by default the file's refs are kept so existing scripts keep working
    #[arg(long)]
    pub new_ref: bool,
    /// Print {"slug","ref"} on success, the error envelope on failure
    #[arg(long)]
    pub json: bool,
}

/// Mappings rename the export's columns and answers. Map 0 (EC5_AUTO) is generated from the
/// definition; up to three custom maps sit beside it.
#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// List the maps of a project (index, default, name)
    List {
        /// Project slug (or name)
        slug: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print one map as JSON, to edit and pass to `update`
    Show {
        /// Project slug (or name)
        slug: String,
        /// The map's index (0 is EC5_AUTO)
        #[arg(long, value_name = "N")]
        index: usize,
    },
    /// Add a custom map, a copy of EC5_AUTO (name: 3–20 of A-Z a-z 0-9 space _ -)
    Create {
        /// Project slug (or name)
        slug: String,
        #[arg(long)]
        name: String,
        /// Make it the default map of the export
        #[arg(long)]
        default: bool,
        /// Print {"map_index": N} on success
        #[arg(long)]
        json: bool,
    },
    /// Replace a custom map with the JSON of a file (as `show` prints it); inputs the file
    /// leaves out keep their EC5_AUTO names
    Update {
        /// Project slug (or name)
        slug: String,
        /// The map's index (not 0)
        #[arg(long, value_name = "N")]
        index: usize,
        /// The map JSON; standard input when absent or `-`
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Delete a custom map (EC5_AUTO becomes the default if it was)
    Delete {
        /// Project slug (or name)
        slug: String,
        /// The map's index (not 0)
        #[arg(long, value_name = "N")]
        index: usize,
    },
    /// Make a map the default of the export
    SetDefault {
        /// Project slug (or name)
        slug: String,
        /// The map's index (0 is EC5_AUTO)
        #[arg(long, value_name = "N")]
        index: usize,
    },
}

/// A parser for one of a project's states: clap lists (and completes) the words the state itself
/// spells, so the CLI never has its own list.
fn state<S>() -> impl TypedValueParser<Value = S>
where
    S: ProjectState + FromStr + Send + Sync,
    S::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(S::ALL.iter().map(|v| v.as_str())).try_map(|text| text.parse::<S>())
}
