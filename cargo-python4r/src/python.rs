//! What the bundle takes from the build interpreter, asked of the managed environment's Python:
//! its version, shared libpython and standard library, and the environment's site-packages.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The build interpreter's layout.
#[derive(Debug)]
pub(crate) struct Layout {
    /// `major.minor`.
    pub(crate) version: String,
    /// The shared libpython file (`LIBDIR/INSTSONAME`).
    pub(crate) libpython: PathBuf,
    /// The library's file name as the executable names it (its soname).
    pub(crate) soname: String,
    /// The standard library folder.
    pub(crate) stdlib: PathBuf,
    /// The environment's site-packages folders (purelib, and platlib when different).
    pub(crate) site_packages: Vec<PathBuf>,
}

const SCRIPT: &str = r#"
import json, sys, sysconfig
v = sysconfig.get_config_var
print(json.dumps({
    "version": "%d.%d" % sys.version_info[:2],
    "shared": bool(v("Py_ENABLE_SHARED")),
    "libdir": v("LIBDIR") or "",
    "soname": v("INSTSONAME") or v("LDLIBRARY") or "",
    "stdlib": sysconfig.get_path("stdlib"),
    "purelib": sysconfig.get_path("purelib"),
    "platlib": sysconfig.get_path("platlib"),
}))
"#;

/// The environment's Python.
pub(crate) fn env_python(environment: &Path) -> PathBuf {
    environment.join("bin").join("python")
}

/// Asks the environment's Python for its layout.
pub(crate) fn layout(environment: &Path) -> Result<Layout, String> {
    let python = env_python(environment);
    let output = Command::new(&python)
        .args(["-c", SCRIPT])
        .output()
        .map_err(|e| {
            format!(
                "cannot run {}: {e}; build the program again",
                python.display()
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let info: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("reading {}'s answer: {e}", python.display()))?;
    let text = |key: &str| info[key].as_str().unwrap_or_default().to_owned();
    let soname = text("soname");
    let libdir = PathBuf::from(text("libdir"));
    if !info["shared"].as_bool().unwrap_or(false) || !soname.contains(".so") {
        return Err(format!(
            "the build interpreter of {} has no shared libpython (Py_ENABLE_SHARED is off, \
             library `{soname}`): a bundle ships libpython beside the program, so it needs a \
             Python built with --enable-shared (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared \
             pyenv install 3.X; distribution and conda Pythons are shared). Rebuild with \
             PYO3_PYTHON pointing at one",
            environment.display()
        ));
    }
    let libpython = libdir.join(&soname);
    if !libpython.exists() {
        return Err(format!(
            "the build interpreter's libpython {} does not exist (sysconfig LIBDIR/INSTSONAME); \
             is the Python installation complete?",
            libpython.display()
        ));
    }
    let mut site_packages = vec![PathBuf::from(text("purelib"))];
    let platlib = PathBuf::from(text("platlib"));
    if canonical(&platlib) != canonical(&site_packages[0]) {
        site_packages.push(platlib);
    }
    Ok(Layout {
        version: text("version"),
        libpython,
        soname,
        stdlib: PathBuf::from(text("stdlib")),
        site_packages,
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// Byte-compiles every `.py` under `dir` with the environment's Python.
pub(crate) fn compile_all(environment: &Path, dir: &Path) -> Result<(), String> {
    run(
        Command::new(env_python(environment))
            .args(["-m", "compileall", "-q", "-j", "0"])
            .arg(dir),
        "byte-compiling the standard library and packages",
    )
}

/// Moves the pure-Python standard library of `stdlib` (all but `lib-dynload` and
/// `site-packages`) into `zip`, compiled (`.pyc` beside where the `.py` was, which `zipimport`
/// reads), with the data files.
pub(crate) fn zip_stdlib(environment: &Path, stdlib: &Path, zip: &Path) -> Result<(), String> {
    const SCRIPT: &str = r#"
import importlib.util, os, shutil, sys, zipfile
root, target = sys.argv[1], sys.argv[2]
keep = {"lib-dynload", "site-packages", "__pycache__"}
tag = sys.implementation.cache_tag
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
    for entry in sorted(os.listdir(root)):
        if entry in keep:
            continue
        top = os.path.join(root, entry)
        walk = [(root, [], [entry])] if os.path.isfile(top) else os.walk(top)
        for dirpath, dirnames, filenames in walk:
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                if name.endswith(".py"):
                    pyc = importlib.util.cache_from_source(path)
                    if os.path.exists(pyc):
                        z.write(pyc, rel[:-3] + ".pyc")
                        continue
                z.write(path, rel)
        if os.path.isdir(top):
            shutil.rmtree(top)
        else:
            os.remove(top)
    os.makedirs(os.path.join(root, "__pycache__"), exist_ok=True)
    shutil.rmtree(os.path.join(root, "__pycache__"))
"#;
    run(
        Command::new(env_python(environment))
            .args(["-c", SCRIPT])
            .arg(stdlib)
            .arg(zip),
        "zipping the standard library",
    )
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", command.get_program()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
