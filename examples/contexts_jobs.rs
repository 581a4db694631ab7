//! Contexts (separate namespaces) and jobs (scripts with their own context).

use python4r::{Job, context};

fn main() -> python4r::Result<()> {
    for (name, value) in [("ctx1", 1), ("ctx2", 2), ("ctx3", 3)] {
        context::set_current(name)?;
        python4r::exec(&format!("a = {value}"))?;
    }
    for name in ["ctx1", "ctx2", "ctx3"] {
        context::set_current(name)?;
        println!("in {name}: a = {}", python4r::get::<i64>("a")?);
    }
    println!("contexts: {:?}", context::list());
    context::set_current(context::MAIN)?;
    context::delete_non_main()?;
    println!("after delete_non_main: {:?}", context::list());

    // A plain job runs its whole script on every call.
    let add = Job::new("add", "c = a + b")?;
    println!(
        "add(2, 3) = {}",
        add.exec(&[("a", &2), ("b", &3)], &["c"])?.get::<i64>("c")?
    );

    // A setup/run job runs its script once; each call runs `run(**inputs)`.
    let adder = Job::setup_run(
        "adder",
        "five = 5\ndef run(a, b):\n    return {'c': a + b + five}",
    )?;
    println!(
        "run(2, 3) = {}",
        adder
            .exec(&[("a", &2), ("b", &3)], &["c"])?
            .get::<i64>("c")?
    );
    println!(
        "run(3.0, 4.0) = {}",
        adder
            .exec(&[("a", &3.0), ("b", &4.0)], &["c"])?
            .get::<f64>("c")?
    );
    Ok(())
}
