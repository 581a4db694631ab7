//! `python4r.lock`: the requirement strings and, per Python `major.minor`, the exact set of
//! distributions they resolved to. Written by python4r-build, committed like `Cargo.lock`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The lock file's name, beside `Cargo.toml`.
pub(crate) const FILE_NAME: &str = "python4r.lock";

/// The contents of a `python4r.lock`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lock {
    /// The requirement strings the resolved sets were made from, as declared.
    pub(crate) requirements: Vec<String>,
    /// `major.minor` → `name==version` of every distribution installed, sorted.
    pub(crate) resolved: BTreeMap<String, Vec<String>>,
}

impl Lock {
    /// Reads `path`; `None` when it does not exist.
    pub(crate) fn read(path: &Path) -> Result<Option<Lock>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        Lock::parse(&text).map(Some).map_err(|message| Error::Lock {
            path: path.to_owned(),
            message,
        })
    }

    fn parse(text: &str) -> std::result::Result<Lock, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
        let strings = |value: Option<&toml::Value>, what: &str| {
            value
                .and_then(|v| v.as_array())
                .ok_or_else(|| format!("`{what}` is missing or not a list"))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("`{what}` holds a non-string"))
                })
                .collect::<std::result::Result<Vec<_>, _>>()
        };
        let requirements = strings(table.get("requirements"), "requirements")?;
        let mut resolved = BTreeMap::new();
        if let Some(python) = table.get("python") {
            let python = python.as_table().ok_or("`python` is not a table")?;
            for (version, entry) in python {
                let packages = strings(entry.get("packages"), "packages")?;
                resolved.insert(version.clone(), packages);
            }
        }
        Ok(Lock {
            requirements,
            resolved,
        })
    }

    /// The file's text: stable, one string a line, so that diffs are readable.
    pub(crate) fn render(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut out = String::from(
            "# python4r.lock: the Python packages of this package's managed environment, as\n\
             # resolved by python4r-build for each Python version. Commit it, like Cargo.lock;\n\
             # a build with PYTHON4R_LOCKED=1 fails instead of changing it.\n\
             requirements = [\n",
        );
        for r in &self.requirements {
            out.push_str(&format!("    {},\n", quote(r)));
        }
        out.push_str("]\n");
        for (version, packages) in &self.resolved {
            out.push_str(&format!("\n[python.{}]\npackages = [\n", quote(version)));
            for p in packages {
                out.push_str(&format!("    {},\n", quote(p)));
            }
            out.push_str("]\n");
        }
        out
    }

    /// Writes the lock to `path` unless the file already holds exactly this text. Returns whether
    /// it wrote.
    pub(crate) fn write_if_changed(&self, path: &Path) -> Result<bool> {
        let text = self.render();
        if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
            return Ok(false);
        }
        let tmp = path.with_extension(format!("lock.tmp-{}", std::process::id()));
        std::fs::write(&tmp, &text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_back() {
        let mut lock = Lock {
            requirements: vec![
                "numpy>=1.26".into(),
                "scipy; python_version >= \"3.11\"".into(),
            ],
            ..Lock::default()
        };
        lock.resolved.insert(
            "3.11".into(),
            vec!["numpy==2.3.1".into(), "scipy==1.16.0".into()],
        );
        let text = lock.render();
        assert!(text.contains("[python.\"3.11\"]"), "{text}");
        assert_eq!(Lock::parse(&text).unwrap(), lock);
        assert!(Lock::parse("requirements = 3").is_err());
    }
}
