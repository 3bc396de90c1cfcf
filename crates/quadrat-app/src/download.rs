//! The whole project as one zip (docs/protocol.md §8.13): a file per form and per branch, named
//! as the real server's download names them, each streamed through [`App::stream_project_entries`] in
//! keyset chunks, optionally followed by the media files. Nothing is held but one chunk: the
//! zip is deflated into `out` as it is built, so the first bytes leave at once whatever the
//! project's size. The web page and `quadrat project download` both call [`App::download_project`].

use std::io::Write;

use futures_util::StreamExt;
use quadrat_core::entry::MediaKind;
use quadrat_core::slug;
use quadrat_store::MediaKey;

use crate::export::StreamOptions;
use crate::projects::ResolvedProject;
use crate::zip_stream::ZipStream;
use crate::{App, AppError, Result};

/// What goes into the zip.
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// Default: the project's default map.
    pub map_index: Option<usize>,
    /// JSON files (`{"data":[…]}`) instead of CSV.
    pub json: bool,
    /// Add the entries' photos, audio and video under `media/<kind>/`.
    pub media: bool,
    /// Where the files' media URLs point (as the export's); default: the public URL.
    pub origin: Option<String>,
}

/// One file of the zip: a form, or a branch input of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFile {
    pub name: String,
    pub form_ref: String,
    pub branch_ref: Option<String>,
}

/// The real server's names (`form-<n>__<form slug>.<ext>`, `branch-<n>__<question slug, at most
/// 100 characters>.<ext>`, `n` counting forms and branches each from 1 across the project), in
/// the order they are written: each form, then its branches.
pub fn download_files(project: &ResolvedProject, json: bool) -> Result<Vec<DownloadFile>> {
    let ext = if json { "json" } else { "csv" };
    let def = project.definition()?;
    let mut files = Vec::new();
    let mut branch_n = 0;
    for (i, form) in def.forms.iter().enumerate() {
        files.push(DownloadFile {
            name: format!("form-{}__{}.{ext}", i + 1, slug::normalize(&form.name)),
            form_ref: form.form_ref.0.clone(),
            branch_ref: None,
        });
        for branch in form.branches() {
            branch_n += 1;
            let name: String = slug::normalize(&branch.question)
                .chars()
                .take(100)
                .collect();
            files.push(DownloadFile {
                name: format!("branch-{branch_n}__{name}.{ext}"),
                form_ref: form.form_ref.0.clone(),
                branch_ref: Some(branch.input_ref.0.clone()),
            });
        }
    }
    Ok(files)
}

/// The zip's file name: `<slug>-<csv|json>.zip`.
pub fn download_name(project: &ResolvedProject, json: bool) -> String {
    format!("{}-{}.zip", project.slug, if json { "json" } else { "csv" })
}

impl App {
    /// Writes the project's zip into `out` and returns it. Writes to `out` block the caller:
    /// the server runs this on a blocking thread whose `out` hands chunks to the response.
    pub async fn download_project<W: Write>(
        &self,
        project: &ResolvedProject,
        opts: &DownloadOptions,
        out: W,
    ) -> Result<W> {
        let io = |e: std::io::Error| AppError::internal("writing the project zip", e);
        let mut zip = ZipStream::new(out);
        for file in download_files(project, opts.json)? {
            zip.start(&file.name).map_err(io)?;
            let stream = StreamOptions {
                slug: project.slug.clone(),
                form_ref: Some(file.form_ref),
                branch_ref: file.branch_ref,
                csv: !opts.json,
                geojson: false,
                markers: false,
                map_index: opts.map_index,
                origin: opts.origin.clone(),
            };
            if opts.json {
                zip.write_all(b"{\"data\":").map_err(io)?;
            }
            self.stream_project_entries(project, &stream, &mut zip, &mut |_, _| {})
                .await?;
            if opts.json {
                zip.write_all(b"}").map_err(io)?;
            }
        }
        if opts.media {
            for kind in MediaKind::ALL {
                let files = self
                    .media()
                    .list(kind, &project.project_ref)
                    .await
                    .map_err(|e| AppError::internal("listing media files", e))?;
                for f in files {
                    let Ok(key) = MediaKey::entry(kind, &project.project_ref, &f.name) else {
                        continue;
                    };
                    zip.start(&format!("media/{}/{}", kind.as_str(), f.name))
                        .map_err(io)?;
                    let mut bytes = self.media_read(&key, 0..f.bytes).await?;
                    while let Some(chunk) = bytes.next().await {
                        let chunk =
                            chunk.map_err(|e| AppError::internal("reading a media file", e))?;
                        zip.write_all(&chunk).map_err(io)?;
                    }
                }
            }
        }
        zip.finish().map_err(io)
    }
}
