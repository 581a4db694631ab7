//! `[package.metadata.python4r]` of a package's `Cargo.toml`: the Python packages its binaries
//! need, as PEP 508 strings.

use std::path::Path;

use crate::error::{Error, Result};

/// The `dependencies` list of `[package.metadata.python4r]` in `manifest`, or `None` when the
/// package declares none (the table or the key is absent).
pub(crate) fn requirements(manifest: &Path) -> Result<Option<Vec<String>>> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| Error::io(format!("reading {}", manifest.display()), e))?;
    requirements_from_str(&text).map_err(|message| Error::Metadata {
        manifest: manifest.to_owned(),
        message,
    })
}

fn requirements_from_str(text: &str) -> std::result::Result<Option<Vec<String>>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let Some(section) = table
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("python4r"))
    else {
        return Ok(None);
    };
    let Some(dependencies) = section.get("dependencies") else {
        return Ok(None);
    };
    let list = dependencies
        .as_array()
        .ok_or("`dependencies` is not a list of strings")?;
    list.iter()
        .map(|item| {
            item.as_str()
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| format!("`dependencies` holds {item}, which is not a string"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Some)
}

/// Whether the package is built from cargo's registry or git sources (a dependency), where its
/// `python4r.lock` must never be written.
pub(crate) fn is_read_only_source(manifest_dir: &Path) -> bool {
    let dir = manifest_dir.to_string_lossy().replace('\\', "/");
    if dir.contains("/registry/src/") || dir.contains("/git/checkouts/") {
        return true;
    }
    std::env::var_os("CARGO_HOME").is_some_and(|home| manifest_dir.starts_with(home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dependency_list() {
        let toml = "[package]\nname = \"x\"\n[package.metadata.python4r]\n\
                    dependencies = [\"numpy>=1.26\", \" tabulate \"]\n";
        assert_eq!(
            requirements_from_str(toml).unwrap(),
            Some(vec!["numpy>=1.26".to_owned(), "tabulate".to_owned()])
        );
        assert_eq!(
            requirements_from_str("[package]\nname = \"x\"").unwrap(),
            None
        );
        let err = requirements_from_str("[package.metadata.python4r]\ndependencies = \"numpy\"")
            .unwrap_err();
        assert!(err.contains("not a list"), "{err}");
        let err =
            requirements_from_str("[package.metadata.python4r]\ndependencies = [1]").unwrap_err();
        assert!(err.contains("not a string"), "{err}");
    }

    #[test]
    fn registry_sources_are_read_only() {
        assert!(is_read_only_source(Path::new(
            "/home/u/.cargo/registry/src/index.crates.io-1/python4r-0.1.0"
        )));
        assert!(!is_read_only_source(Path::new("/home/u/src/my-app")));
    }
}
