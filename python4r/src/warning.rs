//! python4r's warnings (another libpython was loaded, a `VIRTUAL_ENV` is ignored, a bfloat16
//! tensor was copied, ...): through the `log` facade when the program installed a logger, else
//! printed once each on standard error as `python4r: warning: ...`, unless
//! `PYTHON4R_WARNINGS=off`.

use std::collections::HashSet;
use std::sync::Mutex;

/// The variable that silences the warnings printed on standard error.
pub(crate) const VARIABLE: &str = "PYTHON4R_WARNINGS";

/// Emits `message` as a warning: a `log::warn!` record (target `python4r`) when a logger is
/// installed (`log::max_level()` is not `Off`), else one line on standard error the first time
/// this message is seen, unless `PYTHON4R_WARNINGS=off`.
pub(crate) fn warn(message: impl std::fmt::Display) {
    let message = message.to_string();
    if log::max_level() != log::LevelFilter::Off {
        log::warn!(target: "python4r", "{message}");
        return;
    }
    if silenced(std::env::var(VARIABLE).ok().as_deref()) {
        return;
    }
    static PRINTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut printed = PRINTED.lock().unwrap_or_else(|e| e.into_inner());
    if printed
        .get_or_insert_with(HashSet::new)
        .insert(message.clone())
    {
        eprintln!("python4r: warning: {message}");
    }
}

/// Whether the value of `PYTHON4R_WARNINGS` turns the printed warnings off.
fn silenced(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no" | "none"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::silenced;

    #[test]
    fn values_that_silence() {
        for value in ["off", "OFF", "0", "false", " no "] {
            assert!(silenced(Some(value)), "{value}");
        }
        for value in [None, Some("on"), Some(""), Some("1")] {
            assert!(!silenced(value), "{value:?}");
        }
    }
}
