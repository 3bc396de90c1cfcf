//! The demo project: a bundled definition (Garden Birds, `assets/demo.json`) and three gardens,
//! stored through the bulk import's path (the upload validation) so the export has something to
//! show. `quadrat serve --demo` seeds it; a web page could too.

use quadrat_core::bulk::RowContext;
use quadrat_core::definition::edit::project_str;
use quadrat_core::slug;
use quadrat_core::time::{iso_zero_millis, now_millis};
use serde_json::Value;

use crate::projects::ImportOptions;
use crate::{App, AppError, Result};

/// The demo project's definition file, as Epicollect5 downloads it. It is the program's own
/// asset; the test fixture of the same name is the tests'.
pub const DEMO_PROJECT: &str = include_str!("../assets/demo.json");

/// The demo gardens: (nickname, latitude, longitude, accuracy, size label, features).
const GARDENS: [(&str, &str, &str, &str, &str, &str); 3] = [
    (
        "Rose Corner",
        "51.507400",
        "-0.127800",
        "5",
        "Small",
        "Bird feeder, Nest box",
    ),
    (
        "Allotment 12",
        "53.480800",
        "-2.242600",
        "8",
        "Large",
        "Bird bath, Pond",
    ),
    (
        "Flat 4B balcony",
        "55.953300",
        "-3.188300",
        "12",
        "Balcony or yard",
        "Bird feeder",
    ),
];

/// What [`App::seed_demo`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeed {
    /// The demo project's slug.
    pub slug: String,
    /// Whether this call created it (`false`: it was there already and nothing changed).
    pub created: bool,
    /// Entries stored by this call.
    pub entries: usize,
}

impl App {
    /// Imports the demo project with its gardens, unless a project of its slug is there (then
    /// nothing changes: a demo someone has edited stays as they left it).
    pub async fn seed_demo(&self) -> Result<DemoSeed> {
        let file: Value = serde_json::from_str(DEMO_PROJECT)
            .map_err(|e| bundled(format!("the demo project is not JSON: {e}")))?;
        let name = project_str(&file["data"], "name").unwrap_or_default();
        let demo_slug = slug::normalize(name);
        match self.import_project(&file, &ImportOptions::default()).await {
            Ok(done) => {
                let entries = self.seed_demo_entries(&done.slug).await?;
                Ok(DemoSeed {
                    slug: done.slug,
                    created: true,
                    entries,
                })
            }
            // Refused because it is there (its refs or its name are taken): nothing to do.
            Err(AppError::Client { .. }) if self.find_project(&demo_slug).await.is_ok() => {
                Ok(DemoSeed {
                    slug: demo_slug,
                    created: false,
                    entries: 0,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The gardens, written as bulk-import CSV cells under the default map (each column found
    /// by the EC5_AUTO name of its question: `1_Garden_nickname`, `lat_2_…`) and stored in one
    /// batch. Every garden must pass: a refusal is a fault of the bundled project.
    async fn seed_demo_entries(&self, slug: &str) -> Result<usize> {
        let target = self.import_target(slug).await?;
        let template = target
            .form_ref(None)
            .and_then(|form_ref| target.template(&form_ref, None, None))
            .map_err(|e| bundled(format!("the demo project's template: {e}")))?;
        let headers = template.headers();
        let binding = template
            .bind(&headers)
            .map_err(|e| bundled(format!("the demo project's template: {e}")))?;
        let version = target.project_version();
        let created_at = iso_zero_millis(now_millis());
        let mut rows = Vec::with_capacity(GARDENS.len());
        for (name, lat, long, accuracy, size, features) in GARDENS {
            let cells: Vec<&str> = headers
                .iter()
                .map(|h| match h.as_str() {
                    h if h.starts_with("lat_") => lat,
                    h if h.starts_with("long_") => long,
                    h if h.starts_with("accuracy_") => accuracy,
                    h if h.starts_with("1_") => name,
                    h if h.starts_with("3_") => size,
                    h if h.starts_with("4_") => features,
                    _ => "",
                })
                .collect();
            let uuid = uuid::Uuid::new_v4().to_string();
            let ctx = RowContext {
                new_uuid: &uuid,
                created_at: &created_at,
                project_version: &version,
                parent_uuid: None,
                owner_uuid: None,
            };
            let payload = template
                .payload(&binding, &cells, &ctx)
                .map_err(|e| bundled(format!("demo garden {name}: {e:?}")))?;
            rows.push(payload);
        }
        let outcomes = self
            .ingest_batch(&target.project, &target.actor, rows)
            .await?;
        for ((name, ..), outcome) in GARDENS.iter().zip(&outcomes) {
            if let Err(errors) = outcome {
                return Err(bundled(format!("demo garden {name} refused: {errors:?}")));
            }
        }
        Ok(outcomes.len())
    }
}

/// A fault of the bundled demo, not of the caller.
fn bundled(why: String) -> AppError {
    AppError::broken(why)
}
