//! `quadrat keys …`

use std::process::ExitCode;

use quadrat_app::oauth::keys;

use crate::cli::KeysCommand;
use crate::config::Config;

pub fn run(config: &Config, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Generate { force } => {
            let made = keys::generate(&config.key_settings(), force)?;
            outln!("generated signing key {}", made.kid);
            outln!("  private key: {} (mode 0600)", made.private_path.display());
            outln!("  public key:  {}", made.public_path.display());
            if let Some(old) = made.retired {
                outln!(
                    "  the replaced public key is kept at {} so tokens it signed stay valid until they expire (2 hours); delete it after that",
                    old.display()
                );
            }
            outln!(
                "A running server sharing this data directory uses the new key from its next request."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
