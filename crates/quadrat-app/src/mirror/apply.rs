//! Export rows applied to the local project (docs/protocol.md §18.4): each rebuilt by the form's
//! or branch's template under map 0, then stored in batches through the upload rules with its
//! remote `uploaded_at`. A child or branch row whose parent or owner is not local yet waits for
//! the end of the pull.

use std::collections::HashMap;

use quadrat_core::bulk::{ExportRowContext, MediaName, Template};
use quadrat_core::definition::InputType;
use quadrat_core::time::now_millis;
use quadrat_core::users::{UserState, parse_email};
use quadrat_core::{Ec5Error, time::sql_datetime};
use serde_json::{Map, Value};

use super::state::MirrorState;
use super::{MirrorError, MirrorReport, RefusedRow, Run};
use crate::bulk::{BATCH_ROWS, ImportTarget};
use crate::upload::MirroredRow;

/// Refused rows kept for the report; the rest are counted.
const REFUSED_KEPT: usize = 100;

/// One rebuilt row waiting for its batch.
#[derive(Debug, Clone)]
pub struct Pending {
    stream: String,
    uuid: String,
    payload: Value,
    uploaded_at: i64,
    /// The local `created_by`: private projects' e-mails mapped to users here, else 0.
    user_id: i64,
    media: Vec<MediaName>,
}

pub struct Applier {
    target: ImportTarget,
    version: String,
    templates: HashMap<(String, Option<String>), Template>,
    pending: Vec<Pending>,
    deferred: Vec<Pending>,
    /// `created_by` e-mail → local user id, as found or made in this run.
    users: HashMap<String, i64>,
}

impl Applier {
    pub async fn new(run: &Run<'_>) -> Result<Applier, MirrorError> {
        let target = run.app.import_target(&run.local_slug).await?;
        Ok(Applier {
            version: sql_datetime(target.project.structure.updated_at),
            target,
            templates: HashMap::new(),
            pending: Vec::new(),
            deferred: Vec::new(),
            users: HashMap::new(),
        })
    }

    /// After a definition change: templates and version are made again.
    pub async fn reload(&mut self, run: &mut Run<'_>) -> Result<(), MirrorError> {
        self.flush(run).await?;
        let deferred = std::mem::take(&mut self.deferred);
        let users = std::mem::take(&mut self.users);
        *self = Applier::new(run).await?;
        self.deferred = deferred;
        self.users = users;
        Ok(())
    }

    /// The report's name of a stream: the form's name, or `form › branch question`.
    pub fn stream_name(&self, form_ref: &str, branch_ref: Option<&str>) -> String {
        let def = &self.target.def;
        let Some(form) = def.form(form_ref) else {
            return form_ref.to_string();
        };
        match branch_ref {
            None => form.name.clone(),
            Some(b) => match form.branches().find(|i| i.input_ref.as_str() == b) {
                Some(input) => format!("{} › {}", form.name, input.question),
                None => b.to_string(),
            },
        }
    }

    /// Every stream of the project: forms in order (parents first), then each form's branches.
    pub fn streams(&self) -> Vec<(String, Option<String>)> {
        let forms = &self.target.def.forms;
        let mut out: Vec<(String, Option<String>)> =
            forms.iter().map(|f| (f.form_ref.0.clone(), None)).collect();
        for f in forms {
            for b in f.branches() {
                out.push((f.form_ref.0.clone(), Some(b.input_ref.0.clone())));
            }
        }
        out
    }

    /// Rebuilds one export row and queues it; a full batch is stored.
    pub async fn push(
        &mut self,
        run: &mut Run<'_>,
        form_ref: &str,
        branch_ref: Option<&str>,
        row: &Map<String, Value>,
    ) -> Result<(), MirrorError> {
        let stream = self.stream_name(form_ref, branch_ref);
        run.report.streams.entry(stream.clone()).or_default().read += 1;
        let key = (form_ref.to_string(), branch_ref.map(str::to_string));
        if !self.templates.contains_key(&key) {
            match self.target.template(form_ref, branch_ref, Some(0)) {
                Ok(t) => {
                    self.templates.insert(key.clone(), t);
                }
                Err(e) => {
                    refuse(&mut run.report, uuid_of(row), vec![e]);
                    return Ok(());
                }
            }
        }
        let Some(template) = self.templates.get(&key) else {
            return Ok(());
        };
        let ctx = ExportRowContext {
            project_version: &self.version,
        };
        let rebuilt = match template.rebuild_export_row(row, &ctx) {
            Ok(r) => r,
            Err(errors) => {
                refuse(&mut run.report, uuid_of(row), errors);
                return Ok(());
            }
        };
        let Some(uploaded_at) = iso_millis(&rebuilt.uploaded_at) else {
            let e = Ec5Error::new("ec5_79", "uploaded_at");
            refuse(&mut run.report, rebuilt.uuid, vec![e]);
            return Ok(());
        };
        run.report.reconstruction.add(rebuilt.losses);
        let user_id = self.created_by(run, row).await?;
        self.pending.push(Pending {
            stream,
            uuid: rebuilt.uuid,
            payload: rebuilt.payload,
            uploaded_at,
            user_id,
            media: rebuilt.media,
        });
        if self.pending.len() >= BATCH_ROWS {
            self.flush(run).await?;
        }
        Ok(())
    }

    /// The local user of a row's `created_by`: on a private project the export names the
    /// uploader's e-mail, mapped to the local user of that e-mail, else to a new unverified
    /// placeholder user (no password, no role in any project); `n/a` and public projects are
    /// anonymous (0), as the export cannot tell who uploaded there.
    async fn created_by(
        &mut self,
        run: &mut Run<'_>,
        row: &Map<String, Value>,
    ) -> Result<i64, MirrorError> {
        if !self.target.project.is_private() {
            return Ok(0);
        }
        let text = row
            .get("created_by")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let Ok(email) = parse_email(text) else {
            return Ok(0);
        };
        if let Some(id) = self.users.get(&email) {
            return Ok(*id);
        }
        let store = &run.app.store;
        let (user, created) = store.ensure_user(&email, now_millis()).await?;
        if created {
            store
                .set_user_state(user.id, UserState::Unverified.as_str(), now_millis())
                .await?;
            run.report.users_created += 1;
        }
        self.users.insert(email, user.id);
        Ok(user.id)
    }

    /// Stores the queued rows in one transaction.
    pub async fn flush(&mut self, run: &mut Run<'_>) -> Result<(), MirrorError> {
        let batch = std::mem::take(&mut self.pending);
        if batch.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Value, i64, i64)> = batch
            .iter()
            .map(|p| (p.payload.clone(), p.uploaded_at, p.user_id))
            .collect();
        let outcomes = run
            .app
            .ingest_mirrored(&self.target.project, &self.target.actor, &rows)
            .await?;
        for (row, outcome) in batch.into_iter().zip(outcomes) {
            queue_media(&mut run.state, &row.media);
            let counts = run.report.streams.entry(row.stream.clone()).or_default();
            match outcome {
                MirroredRow::New => counts.new += 1,
                MirroredRow::Updated => counts.updated += 1,
                MirroredRow::Unchanged => counts.unchanged += 1,
                // No parent or owner here yet: it may come later in this pull.
                MirroredRow::Refused(errors)
                    if errors
                        .iter()
                        .any(|e| e.code == "ec5_17" || e.code == "ec5_19") =>
                {
                    self.deferred.push(row);
                }
                MirroredRow::Refused(errors) => refuse(&mut run.report, row.uuid, errors),
            }
        }
        Ok(())
    }

    /// The rows that waited for their parent or owner, tried until no more go in.
    pub async fn finish(&mut self, run: &mut Run<'_>) -> Result<(), MirrorError> {
        self.flush(run).await?;
        loop {
            let before = self.deferred.len();
            if before == 0 {
                return Ok(());
            }
            self.pending = std::mem::take(&mut self.deferred);
            self.flush(run).await?;
            if self.deferred.len() == before {
                break;
            }
        }
        for row in std::mem::take(&mut self.deferred) {
            let code = if row.payload.get("type").and_then(Value::as_str) == Some("branch_entry") {
                "ec5_17"
            } else {
                "ec5_19"
            };
            refuse(
                &mut run.report,
                row.uuid,
                vec![Ec5Error::new(code, "mirror")],
            );
        }
        Ok(())
    }
}

fn uuid_of(row: &Map<String, Value>) -> String {
    ["ec5_branch_uuid", "ec5_uuid"]
        .iter()
        .find_map(|k| row.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

fn refuse(report: &mut MirrorReport, uuid: String, errors: Vec<Ec5Error>) {
    if report.refused.len() < REFUSED_KEPT {
        report.refused.push(RefusedRow { uuid, errors });
    } else if report.refused.len() == REFUSED_KEPT {
        report.warnings.push(format!(
            "more than {REFUSED_KEPT} rows refused; the first are listed"
        ));
    }
}

fn queue_media(state: &mut MirrorState, media: &[MediaName]) {
    for m in media {
        state.want_media(media_key(m.kind, &m.name));
    }
}

/// `photo/NAME`: the key of a media file in the state's queue.
pub fn media_key(kind: InputType, name: &str) -> String {
    let kind = match kind {
        InputType::Audio => "audio",
        InputType::Video => "video",
        _ => "photo",
    };
    format!("{kind}/{name}")
}

/// An ISO 8601 instant (`2024-06-10T14:02:15.000Z`) in Unix ms.
pub fn iso_millis(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.timestamp_millis())
}
