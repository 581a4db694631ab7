//! The process utilities: which packages the embedded interpreter's environment has.

use python4r::process;

fn main() -> python4r::Result<()> {
    println!("python: {}", process::executable()?.display());
    for package in ["numpy", "pip", "surely-not-installed-python4r"] {
        match process::package_version(package)? {
            Some(version) => println!("{package}: {version}"),
            None => println!("{package}: not installed"),
        }
    }
    println!(
        "numpy installed: {}",
        process::is_package_installed("numpy")?
    );
    let out = process::run_python(["-c", "import sys; print(sys.version.split()[0])"])?;
    println!("subprocess Python version: {}", out.trim());
    Ok(())
}
