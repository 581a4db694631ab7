//! A crate that depends on python4r, as a user's would, with the one documented `build.rs` line
//! and numpy declared under `[package.metadata.python4r]`: its binary loads the build
//! interpreter's libpython and imports numpy from its managed environment, and its build makes no
//! environment for python4r's own tests.
//!
//! It builds a second crate (pyo3 and numpy included), so it is `#[ignore]`d in the default run;
//! `.ci/run` runs it with `cargo test --test downstream -- --ignored`.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "builds a separate crate; run by .ci/run"]
fn a_dependent_crate_gets_the_right_interpreter_from_one_build_rs_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Outside the repository, so that its .cargo/config.toml (PYTHON4R_WORKSPACE_TESTS) is not
    // read, as for a user's crate; the target and cache folders stay in the repository's target.
    let dir = std::env::temp_dir().join("python4r-downstream-check");
    let target = root.join("target").join("downstream-check");
    let cache = target.join("python4r-cache");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "downstream-check"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
python4r = {{ path = "{runtime}" }}

[build-dependencies]
python4r-build = {{ path = "{build}" }}

[package.metadata.python4r]
dependencies = ["numpy>=1.26"]
"#,
        runtime = root.join("python4r").display(),
        build = root.join("python4r-build").display(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    python4r_build::configure();\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"fn main() {
    let info = python4r::interpreter_info().expect("interpreter starts");
    println!("library={}", info.library.map(|p| p.display().to_string()).unwrap_or_default());
    println!("note={}", info.library_note.is_some());
    println!("numpy={}", info.numpy.is_ok());
    println!("environment={}", info.environment.map(|p| p.display().to_string()).unwrap_or_default());
}
"#,
    )
    .unwrap();

    let run = || {
        let out = Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .env("PYTHON4R_CACHE_DIR", &cache)
            .env_remove("PYTHON4R_WORKSPACE_TESTS")
            // The dependent crate's lock is its own, written on its first build.
            .env_remove("PYTHON4R_LOCKED")
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let stdout = run();
    assert!(
        stdout.contains("note=false"),
        "the build interpreter's libpython is loaded:\n{stdout}"
    );
    assert!(stdout.contains("numpy=true"), "{stdout}");
    assert!(
        stdout.contains(&format!("environment={}", cache.join("envs").display())),
        "the managed environment is embedded:\n{stdout}"
    );
    assert!(dir.join("python4r.lock").exists(), "the lock is written");
    // Only the dependent crate's environment was made: python4r's build script made none for
    // python4r's own tests.
    let log = std::fs::read_to_string(cache.join("install-log.txt")).unwrap();
    let environments: std::collections::BTreeSet<&str> = log
        .lines()
        .filter_map(|l| l.split(" into ").nth(1))
        .collect();
    assert_eq!(environments.len(), 1, "{log}");
    let build = python4r::interpreter::BuildInfo::get();
    if build.shared {
        let lib_dir = std::fs::canonicalize(build.lib_dir).unwrap();
        assert!(
            stdout.contains(&format!("library={}", lib_dir.display())),
            "{stdout}"
        );
    }

    // Without the line the loader may pick another copy of libpython (on this machine, the
    // system's); python4r then embeds the build interpreter's own environment (which may lack
    // numpy), and says so.
    std::fs::write(dir.join("build.rs"), "fn main() {}\n").unwrap();
    let stdout = run();
    assert!(
        stdout.contains("environment=\n"),
        "no managed environment without the line:\n{stdout}"
    );
}
