//! Prints what python4r embeds: the report to paste into a bug report.

fn main() -> python4r::Result<()> {
    print!("{}", python4r::interpreter_info()?);
    Ok(())
}
