//! Reading command inputs: a file path, or `-` for standard input; hex arguments.

use std::{io::Read, path::Path};

use mandate::abi::{
    alloy_primitives::hex,
    json::{excerpt, quote_big_integers},
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
    /// The keystore's MAC refused the password: the wrong password (or a damaged file).
    #[error("{path}: the password in {password_env} does not open this keystore")]
    KeystorePassword { path: String, password_env: String },
    /// Not a keystore this can read (its JSON, its KDF parameters, its key).
    #[error("{path}: not a readable JSON keystore: {reason}")]
    Keystore { path: String, reason: String },
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// `field` as an error line names it: `at actions[0].actionTarget: `.
fn at(field: Option<&str>) -> String {
    field.map(|field| format!("at {field}: ")).unwrap_or_default()
}

impl CliError {
    /// A JSON refusal at the field serde_path_to_error tracked (none at the top level).
    pub(crate) fn json(
        path: &str,
        expected: &'static str,
        error: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let field = error.path().to_string();
        Self::Json {
            path: path.to_string(),
            expected,
            field: (field != ".").then_some(field),
            source: error.into_inner(),
        }
    }

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
    let mut json = serde_json::Deserializer::from_str(&text);
    let value = serde_path_to_error::deserialize(&mut json)
        .map_err(|error| CliError::json(path, expected, error))?;
    json.end().map_err(|source| CliError::Json {
        path: path.to_string(),
        expected,
        field: None,
        source,
    })?;
    Ok(value)
}

/// A 0x-hex argument.
pub(crate) fn hex_arg(what: &'static str, value: &str) -> Result<Vec<u8>, CliError> {
    hex::decode(value.trim()).map_err(|e| CliError::Invalid {
        what,
        reason: format!("{:?} is not hex: {e}", excerpt(value)),
    })
}
