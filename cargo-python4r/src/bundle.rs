//! Writing the bundle folder: the executable, and beside it `python4r-bundle/` with libpython,
//! the standard library (trimmed, byte-compiled, optionally zipped) and the managed environment's
//! packages, laid out as an installed Python (`lib/python3.X/site-packages`) so that `site` and
//! `.pth` files work. python4r's runtime recognises the folder by its marker.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::args::Options;
use crate::build;
use crate::python;
use crate::report;

/// The folder beside the executable (python4r-build's `BUNDLE_DIR`, python4r's `bundle::DIR`).
pub(crate) const DIR: &str = "python4r-bundle";
/// The marker python4r looks for.
const MARKER: &str = "python4r-bundle.toml";

/// Standard-library folders a program does not need: the test suite, IDLE, Tk, the demo and
/// pip's bootstrapper, and the static library and build configuration.
const STDLIB_EXCLUDED: &[&str] = &[
    "test",
    "tests",
    "idle_test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "__pycache__",
    "site-packages",
];

/// Installer tooling left out of the packages.
const PACKAGES_EXCLUDED: &[&str] = &[
    "pip",
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils-precedence.pth",
    "__pycache__",
];

/// Builds the target and writes the bundle.
pub(crate) fn run(options: &Options) -> Result<(), String> {
    let built = build::build(options)?;
    let layout = python::layout(&built.environment)?;
    let out = match &options.out {
        Some(dir) => dir.clone(),
        None => default_out(&built.executable, options.target.name()),
    };
    prepare_out(&out)?;
    let name = built
        .executable
        .file_name()
        .ok_or("the executable has no file name")?;
    copy_file(&built.executable, &out.join(name))?;
    let home = out.join(DIR);
    let lib = home.join("lib");
    copy_file(&layout.libpython, &lib.join(&layout.soname))?;
    let stdlib = lib.join(format!("python{}", layout.version));
    copy_tree(&layout.stdlib, &stdlib, &|rel: &Path, is_dir| {
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.as_deref().unwrap_or_default();
        if is_dir {
            !(STDLIB_EXCLUDED.contains(&name)
                || rel.parent() == Some(Path::new("")) && name.starts_with("config-"))
        } else {
            !name.starts_with("_tkinter")
        }
    })?;
    let site_packages = stdlib.join("site-packages");
    for source in &layout.site_packages {
        copy_tree(source, &site_packages, &|rel: &Path, is_dir| {
            let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.as_deref().unwrap_or_default();
            let top = rel.parent() == Some(Path::new(""));
            if top
                && (PACKAGES_EXCLUDED.contains(&name)
                    || ["pip-", "setuptools-"]
                        .iter()
                        .any(|p| name.starts_with(p) && name.ends_with(".dist-info")))
            {
                return false;
            }
            !(is_dir
                && (name == "__pycache__"
                    || options.no_tests && !top && matches!(name, "tests" | "test")))
        })?;
    }
    python::compile_all(&built.environment, &stdlib)?;
    let before = report::measure(&out, &layout);
    if options.zip_stdlib {
        let zip = lib.join(format!("python{}.zip", layout.version.replace('.', "")));
        python::zip_stdlib(&built.environment, &stdlib, &zip)?;
    }
    if options.strip {
        strip(&home)?;
    }
    std::fs::write(
        home.join(MARKER),
        format!(
            "# A python4r bundle: python4r starts Python from this folder.\n\
             python = \"{}\"\nprogram = {:?}\nenvironment = {:?}\n",
            layout.version,
            name.to_string_lossy(),
            built.environment.display().to_string()
        ),
    )
    .map_err(|e| format!("writing the marker: {e}"))?;
    let after = report::measure(&out, &layout);
    report::print(
        &out,
        &before,
        (options.strip || options.zip_stdlib).then_some(&after),
    );
    Ok(())
}

/// `target/python4r-bundle/NAME`, from the executable's path in the target folder.
fn default_out(executable: &Path, name: &str) -> PathBuf {
    let target = executable
        .ancestors()
        .find(|a| {
            a.parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "target")
        })
        .and_then(Path::parent)
        .or_else(|| executable.parent())
        .unwrap_or(Path::new("."));
    target.join("python4r-bundle").join(name)
}

/// Empties `out` when it is an earlier bundle; refuses a folder that is something else.
fn prepare_out(out: &Path) -> Result<(), String> {
    if out.exists() {
        let is_bundle = out.join(DIR).join(MARKER).exists()
            || std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none());
        if !is_bundle {
            return Err(format!(
                "{} exists and is not a bundle; choose another --out folder or remove it",
                out.display()
            ));
        }
        std::fs::remove_dir_all(out).map_err(|e| format!("removing {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// Copies the tree at `from` into `to`, following symlinks, keeping what `keep(relative path,
/// is a folder)` accepts.
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path, bool) -> bool) -> Result<(), String> {
    fn walk(
        root: &Path,
        dir: &Path,
        to: &Path,
        keep: &dyn Fn(&Path, bool) -> bool,
    ) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // a dangling symlink
            };
            if !keep(rel, meta.is_dir()) {
                continue;
            }
            if meta.is_dir() {
                walk(root, &path, to, keep)?;
            } else {
                copy_file(&path, &to.join(rel))?;
            }
        }
        Ok(())
    }
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    walk(from, from, to, keep)
}

/// `strip --strip-unneeded` on libpython and the standard library's extension modules. The
/// packages' are left alone: wheels ship them stripped already, and the libraries auditwheel
/// vendors (`numpy.libs/`) are patched by patchelf in a way strip breaks ("ELF load command
/// address/offset not page-aligned").
fn strip(home: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    collect_shared_objects(home, &mut files);
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "site-packages"));
    for chunk in files.chunks(200) {
        let status = Command::new("strip")
            .arg("--strip-unneeded")
            .args(chunk)
            .status()
            .map_err(|e| format!("cannot run strip (binutils): {e}"))?;
        if !status.success() {
            return Err(format!("strip --strip-unneeded failed ({status})"));
        }
    }
    Ok(())
}

fn collect_shared_objects(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_shared_objects(&path, files);
        } else if path.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.ends_with(".so") || n.contains(".so.")
        }) {
            files.push(path);
        }
    }
}
