//! Reading command inputs: a file path, or `-` for standard input; hex arguments.

use std::{io::Read, path::Path};

use mandate::abi::{
    alloy_primitives::hex,
    json::{excerpt, field_at, quote_big_integers},
};

/// A command's failure: one line for stderr.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: not valid JSON for {expected}: {}{source}", at(field.as_deref()))]
    Json { path: String, expected: &'static str, field: Option<String>, source: serde_json::Error },
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// `field` as an error line names it: `at actions[0].actionTarget: `.
fn at(field: Option<&str>) -> String {
    field.map(|field| format!("at {field}: ")).unwrap_or_default()
}

impl CliError {
    pub(crate) fn other(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Other(Box::new(err))
    }
}

/// The text of `path`, or of standard input for `-`.
pub(crate) fn read_text(path: &str) -> Result<String, CliError> {
    let mut text = String::new();
    let result = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(Path::new(path)).map(|t| text = t)
    };
    result.map_err(|source| CliError::Read { path: path.to_string(), source })?;
    Ok(text)
}

/// `path` parsed as JSON of type `T`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &str,
    expected: &'static str,
) -> Result<T, CliError> {
    parse_json(path, &read_text(path)?, expected)
}

/// `text`, read from `path`, parsed as JSON of type `T`; integers too big for a JSON number
/// reader are read as written ([`quote_big_integers`]).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    path: &str,
    text: &str,
    expected: &'static str,
) -> Result<T, CliError> {
    let text = quote_big_integers(text);
    serde_json::from_str(&text).map_err(|source| CliError::Json {
        path: path.to_string(),
        expected,
        field: field_at(&text, &source),
        source,
    })
}

/// A 0x-hex argument.
pub(crate) fn hex_arg(what: &'static str, value: &str) -> Result<Vec<u8>, CliError> {
    hex::decode(value.trim()).map_err(|e| CliError::Invalid {
        what,
        reason: format!("{:?} is not hex: {e}", excerpt(value)),
    })
}
