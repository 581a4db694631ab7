//! Contexts (separate namespaces, per-thread current context), threads and jobs.

use std::sync::Mutex;

use python4r::{Context, Error, Job, context};

/// The current-context calls touch a process-wide registry: these tests take turns.
static REGISTRY: Mutex<()> = Mutex::new(());

#[test]
fn three_contexts_keep_their_own_values() {
    let _turn = REGISTRY.lock().unwrap();
    for (name, value) in [("ctx1", 1), ("ctx2", 2), ("ctx3", 3)] {
        context::set_current(name).unwrap();
        python4r::exec(&format!("a = {value}")).unwrap();
    }
    for (name, value) in [("ctx1", 1), ("ctx2", 2), ("ctx3", 3)] {
        context::set_current(name).unwrap();
        assert_eq!(python4r::get::<i64>("a").unwrap(), value);
        assert_eq!(context::current_name(), name);
    }
    assert_eq!(context::list(), vec!["ctx1", "ctx2", "ctx3", "main"]);
    context::set_current("ctx1").unwrap();
    python4r::exec("import math\nb = 1").unwrap();
    context::reset().unwrap();
    assert!(python4r::get::<i64>("a").is_err());
    python4r::exec("a = len('xy')").unwrap(); // builtins survive a reset
    let err = context::delete("ctx1").unwrap_err();
    assert!(
        err.to_string().contains("current context of this thread"),
        "{err}"
    );
    context::set_current(context::MAIN).unwrap();
    context::delete("ctx1").unwrap();
    assert!(
        context::delete("ctx1")
            .unwrap_err()
            .to_string()
            .contains("there is no context `ctx1`")
    );
    assert!(matches!(context::delete("main"), Err(Error::Context(_))));
    context::delete_non_main().unwrap();
    assert_eq!(context::list(), vec!["main"]);
}

#[test]
fn contexts_are_really_separate() {
    let _turn = REGISTRY.lock().unwrap();
    let a = context::add("sep_a").unwrap();
    let b = context::add("sep_b").unwrap();
    a.exec("import json\nx = 1\ndef f():\n    return x")
        .unwrap();
    b.exec("x = 2").unwrap();
    assert_eq!(a.eval::<i64>("f()").unwrap(), 1);
    assert!(
        b.eval::<i64>("f()").is_err(),
        "functions do not leak across contexts"
    );
    assert!(
        b.eval::<String>("json.__name__").is_err(),
        "imports do not leak"
    );
    assert!(
        context::add("sep_a")
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
    assert!(context::get("sep_a").unwrap().same(&a));
    context::delete("sep_a").unwrap();
    context::delete("sep_b").unwrap();
}

#[test]
fn current_context_is_per_thread() {
    let _turn = REGISTRY.lock().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let name = format!("thread{i}");
                context::set_current(&name).unwrap();
                for j in 0..50 {
                    python4r::exec_with("v = i * 100 + j", &[("i", &i), ("j", &j)]).unwrap();
                    assert_eq!(python4r::get::<i64>("v").unwrap(), i * 100 + j);
                    assert_eq!(context::current_name(), name);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(context::current_name(), "main");
    context::delete_non_main().unwrap();
}

#[test]
fn ten_threads_concatenate() {
    let handles: Vec<_> = (0..10)
        .map(|_| {
            std::thread::spawn(|| {
                let ctx = Context::new();
                let out = ctx
                    .exec_io("z = x + y", &[("x", &"Hello "), ("y", &"World")], &["z"])
                    .unwrap();
                out.get::<String>("z").unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "Hello World");
    }
}

#[test]
fn sixteen_sleeping_tasks_on_eight_threads_all_finish() {
    // python4j sleeps 10 s per task; 0.2 s keeps the test quick and still overlaps the sleeps,
    // which only works when `time.sleep` releases the GIL to the other threads.
    let (tx, rx) = std::sync::mpsc::channel();
    let tasks = std::sync::Arc::new(Mutex::new((0..16).collect::<Vec<i32>>()));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let tasks = tasks.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                while let Some(task) = tasks.lock().unwrap().pop() {
                    Context::new().exec("import time\ntime.sleep(0.2)").unwrap();
                    tx.send(task).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut done: Vec<i32> = rx.iter().collect();
    for w in workers {
        w.join().unwrap();
    }
    done.sort();
    assert_eq!(done, (0..16).collect::<Vec<_>>());
}

#[test]
fn jobs_plain_mode() {
    let job = Job::new("add", "c = a + b").unwrap();
    assert_eq!(
        job.exec(&[("a", &2), ("b", &3)], &["c"])
            .unwrap()
            .get::<i64>("c")
            .unwrap(),
        5
    );
    assert_eq!(
        job.exec(&[("a", &3.0), ("b", &4.0)], &["c"])
            .unwrap()
            .get::<f64>("c")
            .unwrap(),
        7.0
    );
    let all = job.exec_and_return_all(&[("a", &1), ("b", &1)]).unwrap();
    assert_eq!(
        all.iter().find(|(n, _)| n == "c").unwrap().1,
        python4r::Value::Int(2)
    );
    assert!(Job::new("bad", "c = (").is_err());
}

#[test]
fn jobs_setup_run_mode() {
    let code = "five = 5\ncalls = []\ndef setup():\n    calls.append('setup')\ndef run(a, b):\n    calls.append('run')\n    return {'c': a + b + five}";
    let job = Job::setup_run("adder", code).unwrap();
    assert_eq!(
        job.exec(&[("a", &2), ("b", &3)], &["c"])
            .unwrap()
            .get::<i64>("c")
            .unwrap(),
        10
    );
    assert_eq!(
        job.exec(&[("a", &3.0), ("b", &4.0)], &["c"])
            .unwrap()
            .get::<f64>("c")
            .unwrap(),
        12.0
    );
    assert_eq!(
        job.context().get::<Vec<String>>("calls").unwrap(),
        vec!["setup", "run", "run"]
    );
    let all = job.exec_and_return_all(&[("a", &0), ("b", &0)]).unwrap();
    assert_eq!(all, vec![("c".to_owned(), python4r::Value::Int(5))]);
    let err = Job::setup_run("norun", "x = 1").unwrap_err();
    assert!(
        err.to_string().contains("defines no function `run`"),
        "{err}"
    );
    let bad = Job::setup_run("badret", "def run():\n    return 3").unwrap();
    assert!(
        bad.exec(&[], &["c"])
            .unwrap_err()
            .to_string()
            .contains("must return a dict")
    );
}
