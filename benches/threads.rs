//! `inc` called from 1, 2, 4 and 8 Rust threads, python4r against hand-written pyo3; and the
//! cost of a call from a thread Python has never seen against one from the main thread
//! (issue 5, 5). Figures are the time per call over all threads (1 / throughput).

mod common;

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{HandWritten, inc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Runs `call` `iters` times on each of `threads` fresh threads, started together; returns the
/// wall time divided by the number of calls made.
fn per_call_on_threads(threads: usize, iters: u64, call: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(threads + 1);
    let call = &call;
    let barrier = &barrier;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(move || {
                call(); // the thread's first call (a python4r thread state is made here)
                barrier.wait();
                for _ in 0..iters {
                    call();
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed() / threads as u32
    })
}

fn threads(c: &mut Criterion) {
    let hand = Arc::new(HandWritten::new("x", "result = x + 1"));
    assert_eq!(inc(1), 2);
    let mut group = c.benchmark_group("inc_threads");
    for threads in [1usize, 2, 4, 8] {
        group.bench_function(BenchmarkId::new("python4r", threads), |b| {
            b.iter_custom(|iters| {
                per_call_on_threads(threads, iters, || {
                    black_box(inc(black_box(41)));
                })
            })
        });
        let hand = Arc::clone(&hand);
        group.bench_function(BenchmarkId::new("hand_written_pyo3", threads), |b| {
            b.iter_custom(|iters| {
                per_call_on_threads(threads, iters, || {
                    black_box(hand.inc(black_box(41)));
                })
            })
        });
    }
    group.finish();
}

fn unseen_threads(c: &mut Criterion) {
    let hand = HandWritten::new("x", "result = x + 1");
    let mut group = c.benchmark_group("inc_thread_kind");
    // The bench's own thread started Python: Python knows it.
    group.bench_function("python4r/main_thread", |b| b.iter(|| inc(black_box(41))));
    group.bench_function("python4r/unseen_thread", |b| {
        b.iter_custom(|iters| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(inc(black_box(41)));
                    }
                    start.elapsed()
                })
                .join()
                .unwrap()
            })
        })
    });
    group.bench_function("hand_written_pyo3/main_thread", |b| {
        b.iter(|| hand.inc(black_box(41)))
    });
    group.bench_function("hand_written_pyo3/unseen_thread", |b| {
        b.iter_custom(|iters| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(hand.inc(black_box(41)));
                    }
                    start.elapsed()
                })
                .join()
                .unwrap()
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = unseen_threads, threads
}
criterion_main!(benches);
