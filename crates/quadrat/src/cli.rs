//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Manage a project's mappings (the column and answer names of the entries export)
    #[command(subcommand)]
    Mapping(MappingCommand),
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
    /// Set a project's access, visibility or status
    Set {
        /// Project slug (or name)
        slug: String,
        /// What to set
        field: Field,
        /// access: public|private; visibility: listed|hidden; status: active|locked|trashed
        value: String,
    },
    /// Delete a project with everything it holds
    Delete {
        /// Project slug (or name)
        slug: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Field {
    Access,
    Visibility,
    Status,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The definition file (`{"data":{"id","type":"project","project":{…}}}`)
    pub file: PathBuf,
    /// Project name (the slug follows it) instead of the file's
    #[arg(long)]
    pub name: Option<String>,
    /// Access instead of the file's
    #[arg(long, value_parser = ["public", "private"])]
    pub access: Option<String>,
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
