//! Managed environments in the cache: where they live, how one is made (in a temporary folder,
//! renamed into place with a completion marker) and how a finished one is recognised.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::installer::{self, Installer};
use crate::python::Interpreter;

/// The file that marks an environment as complete; written last, before the rename.
pub(crate) const MARKER: &str = "python4r-environment.toml";

/// The variables that choose the cache folder.
pub(crate) const VARIABLES: &[&str] = &["PYTHON4R_CACHE_DIR", "XDG_CACHE_HOME", "HOME"];

/// What to install.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    /// Exactly these `name==version` pins (from the lock).
    Locked(Vec<String>),
    /// Resolve these requirement strings.
    Resolve(Vec<String>),
}

/// A complete managed environment.
#[derive(Clone, Debug)]
pub(crate) struct Environment {
    /// Its folder.
    pub(crate) path: PathBuf,
    /// `name==version` of what it holds (pip excepted).
    pub(crate) packages: Vec<String>,
    /// Whether this build installed it (else it was found in the cache).
    pub(crate) installed: bool,
}

/// `$PYTHON4R_CACHE_DIR`, else `$XDG_CACHE_HOME/python4r`, else `~/.cache/python4r`.
pub(crate) fn cache_root() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("PYTHON4R_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("python4r"));
    }
    var("HOME")
        .map(|home| PathBuf::from(home).join(".cache").join("python4r"))
        .ok_or_else(|| {
            Error::Interpreter(
                "no cache folder for the managed Python environment: set PYTHON4R_CACHE_DIR \
                 (or XDG_CACHE_HOME or HOME)"
                    .to_owned(),
            )
        })
}

/// A stable 64-bit FNV-1a hash, as 16 hex digits (std's hashers may change between releases).
pub(crate) fn hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The store of environments under a cache root.
pub(crate) struct Store {
    envs: PathBuf,
    root: PathBuf,
}

impl Store {
    pub(crate) fn new(root: PathBuf) -> Store {
        Store {
            envs: root.join("envs"),
            root,
        }
    }

    /// Where the environment of exactly `pins` made from `python` lives.
    pub(crate) fn locked_path(&self, python: &Interpreter, pins: &[String]) -> PathBuf {
        let mut parts = vec![python.identity()];
        parts.extend(pins.iter().cloned());
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        self.envs.join(hash(&parts))
    }

    /// The record of which environment `requirements` resolved to for `python`.
    fn resolution_record(&self, python: &Interpreter, requirements: &[String]) -> PathBuf {
        let mut parts = vec!["resolve".to_owned(), python.identity()];
        parts.extend(requirements.iter().cloned());
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        self.root.join("resolutions").join(hash(&parts))
    }

    /// The complete environment at `path`, if there is one.
    pub(crate) fn complete(&self, path: &Path) -> Option<Environment> {
        let marker = std::fs::read_to_string(path.join(MARKER)).ok()?;
        if !installer::env_python(path).exists() {
            return None;
        }
        let packages = marker
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\","))
            .map(str::to_owned)
            .collect();
        Some(Environment {
            path: path.to_owned(),
            packages,
            installed: false,
        })
    }

    /// The environment for `plan`: found complete in the cache or, unless `offline` names the
    /// variable forbidding it, made now.
    pub(crate) fn ensure(
        &self,
        python: &Interpreter,
        plan: &Plan,
        installer: &Installer,
        offline: Option<&'static str>,
    ) -> Result<Environment> {
        let (target, record) = match plan {
            Plan::Locked(pins) => (Some(self.locked_path(python, pins)), None),
            Plan::Resolve(requirements) => {
                let record = self.resolution_record(python, requirements);
                let found = std::fs::read_to_string(&record)
                    .ok()
                    .map(|name| self.envs.join(name.trim()));
                (found, Some(record))
            }
        };
        if let Some(env) = target.as_deref().and_then(|t| self.complete(t)) {
            return Ok(env);
        }
        if let Some(variable) = offline {
            return Err(Error::Offline {
                environment: target.unwrap_or_else(|| self.envs.clone()),
                variable,
            });
        }
        std::fs::create_dir_all(&self.envs)
            .map_err(|e| Error::io(format!("creating {}", self.envs.display()), e))?;
        self.remove_abandoned();
        let tmp = self.envs.join(format!(
            "tmp-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        // A locked set goes where the lock's pins say, so that the next build finds it even if
        // pip reports the set in another spelling.
        let locked_target = matches!(plan, Plan::Locked(_)).then_some(target).flatten();
        let result = self.build(
            python,
            plan,
            installer,
            &tmp,
            record.as_deref(),
            locked_target,
        );
        if tmp.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }

    fn build(
        &self,
        python: &Interpreter,
        plan: &Plan,
        installer: &Installer,
        tmp: &Path,
        record: Option<&Path>,
        locked_target: Option<PathBuf>,
    ) -> Result<Environment> {
        installer.create(python, tmp)?;
        let lines = match plan {
            Plan::Locked(pins) | Plan::Resolve(pins) => pins,
        };
        let requirements_file = tmp.join("python4r-requirements.txt");
        std::fs::write(&requirements_file, lines.join("\n") + "\n")
            .map_err(|e| Error::io(format!("writing {}", requirements_file.display()), e))?;
        installer.install(tmp, &requirements_file)?;
        let packages = installer::freeze(tmp)?;
        let path = locked_target.unwrap_or_else(|| self.locked_path(python, &packages));
        self.log_install(&path, &packages);
        if let Some(existing) = self.complete(&path) {
            // Another build made the same set meanwhile.
            self.write_record(record, &path)?;
            return Ok(Environment {
                installed: true,
                ..existing
            });
        }
        relocate_scripts(tmp, &path);
        let mut marker = format!(
            "# A complete python4r managed environment (made by python4r-build).\n\
             interpreter = {}\nversion = {}\npackages = [\n",
            toml::Value::String(python.executable.display().to_string()),
            toml::Value::String(python.version.clone()),
        );
        for p in &packages {
            marker.push_str(&format!("    {},\n", toml::Value::String(p.clone())));
        }
        marker.push_str("]\n");
        std::fs::write(tmp.join(MARKER), marker)
            .map_err(|e| Error::io(format!("writing the marker in {}", tmp.display()), e))?;
        if let Err(e) = std::fs::rename(tmp, &path)
            && self.complete(&path).is_none()
        {
            return Err(Error::io(
                format!("moving {} to {}", tmp.display(), path.display()),
                e,
            ));
        }
        self.write_record(record, &path)?;
        Ok(Environment {
            path,
            packages,
            installed: true,
        })
    }

    fn write_record(&self, record: Option<&Path>, env: &Path) -> Result<()> {
        let (Some(record), Some(name)) = (record, env.file_name()) else {
            return Ok(());
        };
        if let Some(dir) = record.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        std::fs::write(record, name.to_string_lossy().as_bytes())
            .map_err(|e| Error::io(format!("writing {}", record.display()), e))
    }

    /// One line per install in `install-log.txt`, so that a rebuild that installed nothing can
    /// be told from one that did.
    fn log_install(&self, path: &Path, packages: &[String]) {
        use std::io::Write;
        let line = format!(
            "{} installed {} packages into {}\n",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            packages.len(),
            path.display()
        );
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("install-log.txt"))
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }

    /// Removes the temporary folders of builds that died (killed, crashed) mid-install.
    fn remove_abandoned(&self) {
        let Ok(entries) = std::fs::read_dir(&self.envs) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("tmp-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !running(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Whether process `pid` is running (Linux: its `/proc` entry exists and it is not a zombie, as
/// a killed build whose parent does not reap it stays). Elsewhere, assumed not: a leftover
/// folder of a concurrent build is then removed, and that build fails and can be run again.
fn running(pid: u32) -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ...`; comm may hold spaces and parentheses, the state follows the last `)`.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// Console scripts (`bin/pip`, `bin/f2py`) name their Python by absolute path: point them at the
/// folder the environment is moved to.
fn relocate_scripts(tmp: &Path, path: &Path) {
    let (from, to) = (tmp.to_string_lossy(), path.to_string_lossy());
    let files = std::fs::read_dir(tmp.join("bin"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .chain([tmp.join("pyvenv.cfg")]);
    for file in files {
        if file.is_symlink() || std::fs::metadata(&file).map_or(true, |m| m.len() > 1 << 20) {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&file)
            && text.contains(from.as_ref())
        {
            let _ = std::fs::write(&file, text.replace(from.as_ref(), &to));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hash;

    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(hash(&["a", "b"]), hash(&["a", "b"]));
        assert_ne!(hash(&["ab", ""]), hash(&["a", "b"]));
        assert_eq!(hash(&[]).len(), 16);
    }
}
