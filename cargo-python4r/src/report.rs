//! What a bundle holds and how big each part is, printed after it is written.

use std::path::Path;

use crate::bundle::DIR;
use crate::python::Layout;

/// Sizes in bytes of a bundle's parts.
#[derive(Debug, Default)]
pub(crate) struct Sizes {
    total: u64,
    program: u64,
    libpython: u64,
    stdlib: u64,
    extensions: u64,
    packages: Vec<(String, u64)>,
}

/// Measures the bundle at `out`.
pub(crate) fn measure(out: &Path, layout: &Layout) -> Sizes {
    let lib = out.join(DIR).join("lib");
    let stdlib = lib.join(format!("python{}", layout.version));
    let site = stdlib.join("site-packages");
    let dynload = stdlib.join("lib-dynload");
    let total = size(out);
    let packages_total = size(&site);
    let extensions = size(&dynload);
    let zip = size(&lib.join(format!("python{}.zip", layout.version.replace('.', ""))));
    let mut packages: Vec<(String, u64)> = std::fs::read_dir(&site)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                size(&e.path()),
            )
        })
        .collect();
    packages.sort_by_key(|p| std::cmp::Reverse(p.1));
    let libpython = size(&lib.join(&layout.soname));
    let program = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name() != DIR)
        .map(|e| size(&e.path()))
        .sum();
    Sizes {
        total,
        program,
        libpython,
        stdlib: size(&stdlib) - packages_total - extensions + zip,
        extensions,
        packages,
    }
}

fn size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size(&e.path()))
            .sum()
    } else {
        meta.len()
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Prints the breakdown; `after`, when shrinking steps ran, beside the sizes before them.
pub(crate) fn print(out: &Path, before: &Sizes, after: Option<&Sizes>) {
    let now = after.unwrap_or(before);
    let row = |what: &str, b: u64, a: u64| match after {
        Some(_) if a != b => println!("  {what:<34} {:>10} -> {}", mb(b), mb(a)),
        _ => println!("  {what:<34} {:>10}", mb(a)),
    };
    println!("bundle: {}", out.display());
    row("total", before.total, now.total);
    row("program", before.program, now.program);
    row("libpython", before.libpython, now.libpython);
    row("standard library", before.stdlib, now.stdlib);
    row(
        "standard extension modules",
        before.extensions,
        now.extensions,
    );
    let packages: u64 = now.packages.iter().map(|p| p.1).sum();
    let packages_before: u64 = before.packages.iter().map(|p| p.1).sum();
    row("packages (site-packages)", packages_before, packages);
    for (name, bytes) in now.packages.iter().take(8) {
        println!("    {name:<32} {:>10}", mb(*bytes));
    }
    if after.is_none() {
        println!(
            "  (smaller: --strip strips libpython and the standard extension modules, --zip-stdlib zips the standard library, --no-tests drops packages' tests)"
        );
    }
}
