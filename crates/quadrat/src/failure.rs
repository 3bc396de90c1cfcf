//! How a failed command tells its user, in one place: commands return their failure (an
//! [`anyhow::Error`], a [`Failure`] inside it when they know more) and `main` prints it with
//! [`print`]: text on standard error, or with `--json` the Epicollect5 error envelope on
//! standard output.

use std::io::Write;
use std::process::ExitCode;

use quadrat_app::AppError;
use quadrat_core::Ec5Error;
use serde_json::json;

/// A failure the command describes itself: the Epicollect5 errors of a refusal (with what was
/// refused and what that left), or a message; and its exit code.
#[derive(Debug)]
pub struct Failure {
    /// What failed and what it left, e.g. `bad.json was refused; nothing was stored`.
    what: Option<String>,
    /// The refusal's errors; empty for a failure that is not a refusal.
    errors: Vec<Ec5Error>,
    exit: u8,
}

impl Failure {
    /// A refusal with these errors (exit code 1).
    pub fn refused(errors: Vec<Ec5Error>) -> Failure {
        Failure {
            what: None,
            errors,
            exit: 1,
        }
    }

    /// A failure that no Epicollect5 code describes (exit code 1).
    pub fn message(text: impl Into<String>) -> Failure {
        Failure {
            what: Some(text.into()),
            errors: Vec::new(),
            exit: 1,
        }
    }

    /// Says what was refused and what that left.
    pub fn what(mut self, what: impl Into<String>) -> Failure {
        self.what = Some(what.into());
        self
    }

    /// Another exit code than 1.
    pub fn exit(mut self, code: u8) -> Failure {
        self.exit = code;
        self
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        match &self.what {
            Some(what) if errors.is_empty() => write!(f, "{what}"),
            Some(what) => write!(f, "{what}: {}", errors.join("; ")),
            None => write!(f, "{}", errors.join("; ")),
        }
    }
}

impl std::error::Error for Failure {}

/// A use-case error as a command's failure: a refusal keeps its codes; an internal error keeps
/// its cause for the message.
pub fn cli_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Client { errors, .. } => Failure::refused(errors).into(),
        other => anyhow::Error::new(other),
    }
}

/// Prints a command's failure; returns the exit code it asks for.
///
/// Text: `error: ec5_11 Project does not exist. (source: …)` for a single refusal (after what
/// was refused, when the command says), a headline and one indented line per error for several, `error: ` and the message with its causes for
/// anything else. `--json`: `{"errors":[{"code","title","source"}]}`, a failure without a code
/// being `ec5_116` (the real server's internal error) with the message as its source.
pub fn print(err: &anyhow::Error, as_json: bool) -> ExitCode {
    let failure = &described(err);
    if as_json {
        let errors = if failure.errors.is_empty() {
            vec![Ec5Error::new(
                "ec5_116",
                failure.what.clone().unwrap_or_default(),
            )]
        } else {
            failure.errors.clone()
        };
        // Best effort: a reader that has gone needs no error.
        let _ = writeln!(std::io::stdout().lock(), "{}", json!({ "errors": errors }));
    } else {
        eprint!("{}", text(failure));
    }
    ExitCode::from(failure.exit)
}

/// The [`Failure`] in `err`, the context added around it going before its headline; a message
/// with every cause when there is none.
fn described(err: &anyhow::Error) -> Failure {
    let mut context = Vec::new();
    for cause in err.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            context.extend(failure.what.clone());
            return Failure {
                what: (!context.is_empty()).then(|| context.join(": ")),
                errors: failure.errors.clone(),
                exit: failure.exit,
            };
        }
        context.push(cause.to_string());
    }
    Failure::message(format!("{err:#}"))
}

/// The text form of a failure, one line per error.
fn text(failure: &Failure) -> String {
    let errors = &failure.errors;
    match (&failure.what, errors.as_slice()) {
        (Some(what), []) => format!("error: {what}\n"),
        (Some(what), [only]) => format!("error: {what}: {only}\n"),
        (None, [only]) => format!("error: {only}\n"),
        (what, _) => {
            let mut out = format!(
                "error: {} ({} error{}):\n",
                what.as_deref().unwrap_or("refused"),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            for e in errors {
                out.push_str(&format!("  {e}\n"));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_refusal_is_one_line_with_code_and_place() {
        let failure = Failure::refused(vec![Ec5Error::new("ec5_11", "slug")]);
        assert_eq!(
            text(&failure),
            "error: ec5_11 Project does not exist. (source: slug)\n"
        );
    }

    #[test]
    fn several_errors_follow_the_headline() {
        let failure = Failure::refused(vec![
            Ec5Error::new("ec5_43", "name"),
            Ec5Error::new("ec5_87", "name"),
        ])
        .what("refused; nothing was changed");
        assert_eq!(
            text(&failure),
            "error: refused; nothing was changed (2 errors):\n  ec5_43 Length too short (source: name)\n  ec5_87 Format not matched. (source: name)\n"
        );
    }

    #[test]
    fn a_failure_inside_context_keeps_its_exit_code_and_the_context() {
        let err = anyhow::Error::new(Failure::message("no such file").exit(2)).context("reading");
        let failure = described(&err);
        assert_eq!(text(&failure), "error: reading: no such file\n");
        assert_eq!(failure.exit, 2);
        let plain = anyhow::anyhow!("disk full").context("writing out.csv");
        assert_eq!(
            text(&described(&plain)),
            "error: writing out.csv: disk full\n"
        );
        assert_eq!(described(&plain).exit, 1);
    }
}
