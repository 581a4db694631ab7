//! `cargo python4r bundle`, end to end: the fixture crate (numpy and tabulate) is bundled, the
//! folder copied to a fresh path and run with the build interpreter's prefix, the managed
//! environment, the system's Python folders and every libpython file hidden (`unshare --mount`,
//! as root); from another working directory, through a symlink, and with `LD_LIBRARY_PATH`
//! pointing at the system's libpython and at a broken one.
//!
//! Slow (a second crate with pyo3, pip installs): `#[ignore]`d, run by `.ci/run` with
//! `cargo test -p cargo-python4r --test bundle -- --ignored`.

#[path = "../../tests/fixture/mod.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fixture::Fixture;

/// `cargo-python4r` itself, run in the fixture's folder with its environment.
fn cargo_python4r(fixture: &Fixture, args: &[&str]) -> Output {
    let template = fixture.cargo(&[], &[]);
    let mut real = Command::new(env!("CARGO_BIN_EXE_cargo-python4r"));
    real.args(["python4r"]).args(args).current_dir(&fixture.dir);
    for (key, value) in template.get_envs() {
        match value {
            Some(v) => real.env(key, v),
            None => real.env_remove(key),
        };
    }
    real.env("CARGO", env!("CARGO")).output().unwrap()
}

/// The folders and files a bundled program must not need: the build interpreter's prefix, the
/// managed environment's cache, the system's Python folders, and each libpython file that is
/// not a symlink.
fn hidden(fixture: &Fixture) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let prefix = Command::new("python3")
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .unwrap();
    let prefix = PathBuf::from(String::from_utf8_lossy(&prefix.stdout).trim());
    let mut folders = vec![prefix, fixture.cache.clone(), PathBuf::from("/root/.pyenv")];
    let mut files = Vec::new();
    for dir in [
        "/usr/lib",
        "/usr/local/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
    ] {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with("python3") && path.is_dir() {
                folders.push(path);
            } else if name.starts_with("libpython") && !path.is_symlink() && path.is_file() {
                files.push(path);
            }
        }
    }
    folders.retain(|f| f.exists());
    (folders, files)
}

/// Runs `program` with everything in `hidden` hidden, from `cwd`, with `env`; `None` when the
/// kernel refuses a mount namespace.
fn run_hidden(
    (folders, files): &(Vec<PathBuf>, Vec<PathBuf>),
    program: &Path,
    cwd: &Path,
    env: &[(&str, &str)],
) -> Option<(bool, String)> {
    let empty = std::env::temp_dir().join("python4r-bundle-test-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut script = String::from("set -e\n");
    for folder in folders {
        script.push_str(&format!(
            "mount --bind '{}' '{}'\n",
            empty.display(),
            folder.display()
        ));
    }
    for file in files {
        script.push_str(&format!("mount --bind /dev/null '{}'\n", file.display()));
    }
    script.push_str(&format!(
        "test ! -e /root/.pyenv/versions\nexec '{}'\n",
        program.display()
    ));
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .current_dir(cwd)
        .env_remove("PYTHON4R_WORKSPACE_TESTS");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success()
        && (stderr.contains("unshare failed")
            || stderr.contains("mount: ") && stderr.contains("permission denied"))
    {
        eprintln!("skipped: the kernel refuses a mount namespace here: {stderr}");
        return None;
    }
    Some((
        out.status.success(),
        format!(
            "{}\n--- stderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        ),
    ))
}

fn assert_bundled_run(result: Option<(bool, String)>, bundle: &Path) {
    let Some((ok, output)) = result else { return };
    assert!(ok, "{output}");
    assert!(
        output.contains("sum_of_roots=10"),
        "numpy computes:\n{output}"
    );
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("pi ") && l.trim_end().ends_with("3.25")),
        "tabulate's table:\n{output}"
    );
    let bundle = std::fs::canonicalize(bundle).unwrap();
    assert!(
        output.contains(&format!("bundle={}/python4r-bundle", bundle.display())),
        "{output}"
    );
    assert!(
        output.contains("process=false"),
        "no Python executable in a bundle:\n{output}"
    );
}

#[test]
#[ignore = "builds a second crate and a bundle; run by .ci/run"]
fn a_bundle_runs_with_no_python_installed() {
    let fixture = Fixture::new("bundle");
    let work = std::env::temp_dir().join("python4r-bundle-test");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let out = work.join("made");
    let result = cargo_python4r(
        &fixture,
        &[
            "bundle",
            "--bin",
            "managed-env-fixture",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    eprintln!("{stdout}");
    assert!(stdout.contains("libpython"), "{stdout}");
    let home = out.join("python4r-bundle");
    assert!(home.join("python4r-bundle.toml").exists());
    let stdlib = std::fs::read_dir(home.join("lib"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("python3") && e.path().is_dir())
        .unwrap()
        .path();
    for gone in [
        "test",
        "idlelib",
        "tkinter",
        "ensurepip",
        "site-packages/pip",
    ] {
        assert!(!stdlib.join(gone).exists(), "{gone} is left out");
    }
    assert!(stdlib.join("site-packages/numpy").exists());
    assert!(stdlib.join("__pycache__").exists(), "byte-compiled");

    // Copied to a fresh path, and run with every Python on the machine hidden.
    let moved = work.join("moved");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&out)
        .arg(&moved)
        .status()
        .unwrap();
    assert!(status.success());
    let hidden = hidden(&fixture);
    let program = moved.join("managed-env-fixture");
    assert_bundled_run(run_hidden(&hidden, &program, &moved, &[]), &moved);
    // From another working directory.
    assert_bundled_run(run_hidden(&hidden, &program, Path::new("/"), &[]), &moved);
    // Through a symlink.
    let link = work.join("link-to-program");
    std::os::unix::fs::symlink(&program, &link).unwrap();
    assert_bundled_run(run_hidden(&hidden, &link, &work, &[]), &moved);
    // LD_LIBRARY_PATH at the system's libpython (not hidden, this time), and at a broken one:
    // the bundle's DT_RPATH wins.
    let broken = work.join("broken-lib");
    std::fs::create_dir_all(&broken).unwrap();
    for entry in std::fs::read_dir(home.join("lib")).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("libpython") {
            std::fs::write(broken.join(&name), b"not a library").unwrap();
        }
    }
    let system_lib_dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"];
    let (folders, _) = &hidden;
    let folders_only = (folders.clone(), Vec::new());
    for dir in system_lib_dirs
        .iter()
        .map(Path::new)
        .filter(|d| d.exists())
        .chain([broken.as_path()])
    {
        let env = [
            ("LD_LIBRARY_PATH", dir.to_str().unwrap()),
            ("PYTHONHOME", "/nonexistent"),
            ("PYTHONPATH", "/nonexistent"),
        ];
        assert_bundled_run(run_hidden(&folders_only, &program, &work, &env), &moved);
    }

    // pyo3 first: Python comes up from the bundle, and python4r says it was started first.
    if let Some((ok, output)) = run_hidden(&hidden, &program, &work, &[("FIXTURE_PYO3_FIRST", "1")])
    {
        assert!(ok, "{output}");
        assert!(output.contains("pyo3_first=2"), "{output}");
        assert!(output.contains("Python was already running"), "{output}");
    }

    // Shrunk: stripped and the standard library zipped; still runs.
    let small = work.join("small");
    let result = cargo_python4r(
        &fixture,
        &[
            "bundle",
            "--bin",
            "managed-env-fixture",
            "--out",
            small.to_str().unwrap(),
            "--strip",
            "--zip-stdlib",
            "--no-tests",
        ],
    );
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    eprintln!("{stdout}");
    assert!(stdout.contains(" -> "), "sizes before and after:\n{stdout}");
    assert_bundled_run(
        run_hidden(&hidden, &small.join("managed-env-fixture"), &work, &[]),
        &small,
    );
}

#[test]
#[ignore = "builds a second crate; run by .ci/run"]
fn bundle_errors_say_what_to_do() {
    let fixture = Fixture::new("bundle-errors");
    let result = cargo_python4r(&fixture, &["bundle", "--bin", "no-such-binary"]);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("no-such-binary"), "{stderr}");
    let result = cargo_python4r(&fixture, &["bundle"]);
    assert!(String::from_utf8_lossy(&result.stderr).contains("--bin NAME"));
}
