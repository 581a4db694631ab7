//! Managed environments with real installs: a crate declaring numpy and tabulate under
//! `[package.metadata.python4r]` is built, its lock written, rebuilt without installing, changed,
//! refused under `PYTHON4R_LOCKED=1`, and given bad input (a misspelt package, an unsatisfiable
//! version, an invalid requirement string, an install killed halfway), each a clear build error
//! after which the previous environment still works.
//!
//! Slow (pip installs, a second crate with pyo3): `#[ignore]`d, run by `.ci/run` with
//! `cargo test --test managed_environment -- --ignored`.

mod fixture;

use std::time::{Duration, Instant};

use fixture::{Fixture, failure};

fn assert_runs_with_its_environment(fixture: &Fixture) {
    let stdout = fixture.run();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("pi ") && l.trim_end().ends_with("3.25")),
        "tabulate's table:\n{stdout}"
    );
    assert!(stdout.contains("-------"), "tabulate's table:\n{stdout}");
    assert!(stdout.contains("tabulate="), "{stdout}");
    assert!(stdout.contains("sum_of_roots=10"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "environment={}",
            fixture.cache.join("envs").display()
        )),
        "{stdout}"
    );
}

#[test]
#[ignore = "real pip installs and a second crate; run by .ci/run"]
fn declared_locked_rebuilt_and_changed() {
    let fixture = Fixture::new("lock");
    let start = Instant::now();
    let out = fixture.build(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("first build (pyo3 may be cached): {:?}", start.elapsed());
    assert_eq!(fixture.installs(), 1);
    assert_runs_with_its_environment(&fixture);
    let lock = fixture.lock();
    assert!(lock.contains("\"numpy\",\n    \"tabulate\",\n]"), "{lock}");
    assert!(lock.contains("\"tabulate=="), "{lock}");

    // A rebuild whose build script runs again (Cargo.toml touched) installs nothing.
    let manifest = fixture.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n")).unwrap();
    let start = Instant::now();
    let out = fixture.build(&[]);
    assert!(out.status.success());
    eprintln!("rebuild with the build script rerun: {:?}", start.elapsed());
    assert_eq!(fixture.installs(), 1, "a rebuild installs nothing");
    assert_eq!(fixture.lock(), lock, "the lock is unchanged");

    // A fresh cache with the lock present installs exactly the locked set.
    // (Covered by the hash: the same set lands in the same folder.)

    // A changed requirement is resolved again and the lock rewritten.
    fixture.set_dependencies(&["numpy", "tabulate>=0.8"]);
    assert!(fixture.build(&[]).status.success());
    let relocked = fixture.lock();
    assert!(relocked.contains("\"tabulate>=0.8\""), "{relocked}");
    assert_runs_with_its_environment(&fixture);

    // PYTHON4R_LOCKED=1 turns a needed rewrite into an error.
    fixture.set_dependencies(&["numpy", "tabulate>=0.7"]);
    let stderr = failure(&fixture.build(&[("PYTHON4R_LOCKED", "1")]));
    assert!(stderr.contains("PYTHON4R_LOCKED=1 forbids"), "{stderr}");
    assert_eq!(fixture.lock(), relocked, "the lock is unchanged");

    // Offline: a missing environment is an error, an existing one is used.
    fixture.set_dependencies(&["numpy", "tabulate>=0.8"]);
    assert!(fixture.build(&[("PYTHON4R_OFFLINE", "1")]).status.success());
    fixture.set_dependencies(&["numpy", "tabulate>=0.6"]);
    let stderr = failure(&fixture.build(&[("CARGO_NET_OFFLINE", "true")]));
    assert!(
        stderr.contains("CARGO_NET_OFFLINE=true forbids"),
        "{stderr}"
    );
}

/// Builds with `dependencies`, which must fail saying `expected`; then the original requirements
/// build again without installing, and the program still works.
fn bad_input(fixture: &Fixture, dependencies: &[&str], expected: &str) {
    let installs = fixture.installs();
    fixture.set_dependencies(dependencies);
    let stderr = failure(&fixture.build(&[]));
    assert!(stderr.contains(expected), "{dependencies:?}:\n{stderr}");
    fixture.set_dependencies(&["numpy", "tabulate"]);
    let out = fixture.build(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fixture.installs(),
        installs,
        "the previous environment is reused"
    );
    assert_runs_with_its_environment(fixture);
}

#[test]
#[ignore = "real pip installs and a second crate; run by .ci/run"]
fn bad_input_is_a_clear_build_error_and_the_previous_environment_stays() {
    let fixture = Fixture::new("bad-input");
    let out = fixture.build(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_runs_with_its_environment(&fixture);

    bad_input(
        &fixture,
        &["numpy", "tabulatte-no-such-package-python4r"],
        "installing the Python requirements failed",
    );
    bad_input(
        &fixture,
        &["numpy==0.0.1", "tabulate"],
        "installing the Python requirements failed",
    );
    bad_input(
        &fixture,
        &["numpy>=>1", "tabulate"],
        "invalid Python requirement \"numpy>=>1\"",
    );

    // An install killed halfway: SIGKILL to the whole build once the temporary folder appears.
    let installs = fixture.installs();
    fixture.set_dependencies(&["numpy", "tabulate", "six"]);
    let mut build = {
        use std::os::unix::process::CommandExt;
        let mut command = fixture.cargo(&["build", "--quiet"], &[]);
        command.process_group(0);
        command.spawn().unwrap()
    };
    let envs = fixture.cache.join("envs");
    let deadline = Instant::now() + Duration::from_secs(300);
    let tmp_seen = loop {
        let seen = std::fs::read_dir(&envs)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().starts_with("tmp-")
                    && e.path().join("pyvenv.cfg").exists()
            });
        if seen || Instant::now() > deadline || build.try_wait().unwrap().is_some() {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(tmp_seen, "the install's temporary folder appeared");
    // SAFETY: kill(2) on the process group this test started; no memory is involved.
    unsafe { libc_kill(-(build.id() as i32), 9) };
    let _ = build.wait();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        fixture.installs(),
        installs,
        "the killed install completed nothing"
    );
    fixture.set_dependencies(&["numpy", "tabulate"]);
    assert!(fixture.build(&[]).status.success());
    assert_runs_with_its_environment(&fixture);
    // The next install of that set removes the dead build's folder and completes.
    fixture.set_dependencies(&["numpy", "tabulate", "six"]);
    let out = fixture.build(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&envs)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

#[test]
#[ignore = "real installs with uv and a second crate; run by .ci/run"]
fn uv_installs_when_asked() {
    let uv = std::env::var("PYTHON4R_UV").unwrap_or_else(|_| "uv".to_owned());
    if std::process::Command::new(&uv)
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: uv is not installed (`pip install uv`, or set PYTHON4R_UV)");
        return;
    }
    let fixture = Fixture::new("uv");
    let out = fixture.build(&[("PYTHON4R_INSTALLER", "uv"), ("PYTHON4R_UV", &uv)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fixture.installs(), 1);
    assert_runs_with_its_environment(&fixture);
    // The environment has pip (seeded), for python4r::process.
    let envs = std::fs::read_dir(fixture.cache.join("envs")).unwrap();
    let env = envs.flatten().next().unwrap().path();
    let pip = std::process::Command::new(env.join("bin/python"))
        .args(["-m", "pip", "--version"])
        .output()
        .unwrap();
    assert!(pip.status.success(), "pip is seeded");
}
