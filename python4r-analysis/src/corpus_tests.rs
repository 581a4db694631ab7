//! A corpus of real, varied Python snippets that must pass the name check: no false errors.

use crate::analyze;
use crate::names::is_builtin;
use ruff_python_ast::PythonVersion;

/// Snippets with the inputs they expect.
const SNIPPETS: &[(&[&str], &str)] = &[
    (
        &["arr"],
        "import numpy as np\nresult = np.asarray(arr) * 2.0",
    ),
    (
        &["text"],
        r#"
import re
from collections import Counter
words = re.findall(r"\w+", text.lower())
counts = Counter(words)
result = counts.most_common(3)
"#,
    ),
    (
        &["rows"],
        r#"
import csv, io
buffer = io.StringIO()
writer = csv.writer(buffer)
for row in rows:
    writer.writerow(row)
result = buffer.getvalue()
"#,
    ),
    (
        &["n"],
        r#"
def memo(f):
    cache = {}
    def wrapper(k):
        if k not in cache:
            cache[k] = f(k)
        return cache[k]
    return wrapper

@memo
def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)

result = [fib(i) for i in range(n)]
"#,
    ),
    (
        &["data"],
        r#"
from dataclasses import dataclass, field
from typing import Optional

@dataclass
class Node:
    value: int
    children: list = field(default_factory=list)
    parent: Optional["Node"] = None

    def walk(self):
        yield self.value
        for child in self.children:
            yield from child.walk()

root = Node(0, [Node(v) for v in data])
result = list(root.walk())
"#,
    ),
    (
        &["path"],
        r#"
import json, pathlib
try:
    config = json.loads(pathlib.Path(path).read_text())
except (OSError, json.JSONDecodeError) as error:
    config = {"error": str(error)}
result = config
"#,
    ),
    (
        &["xs", "ys"],
        r#"
import math
pairs = list(zip(xs, ys))
n = len(pairs)
mean_x = sum(x for x, _ in pairs) / n
mean_y = sum(y for _, y in pairs) / n
cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs) / n
sx = math.sqrt(sum((x - mean_x) ** 2 for x, _ in pairs) / n)
sy = math.sqrt(sum((y - mean_y) ** 2 for _, y in pairs) / n)
result = cov / (sx * sy)
"#,
    ),
    (
        &["items"],
        r#"
class Registry:
    _entries = {}

    @classmethod
    def register(cls, name):
        def decorator(fn):
            cls._entries[name] = fn
            return fn
        return decorator

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

@Registry.register("upper")
def upper(s):
    return s.upper()

result = [Registry._entries["upper"](item) for item in items]
"#,
    ),
    (
        &["matrix"],
        r#"
transposed = [[row[i] for row in matrix] for i in range(len(matrix[0]))]
flat = [v for row in matrix for v in row if v]
lookup = {i: {j: v for j, v in enumerate(row)} for i, row in enumerate(matrix)}
result = transposed, flat, lookup
"#,
    ),
    (
        &["command"],
        r#"
class Point:
    __match_args__ = ("x", "y")

match command.split():
    case ["go", direction] if direction in ("north", "south"):
        result = f"going {direction}"
    case ["drop", *objects]:
        result = f"dropping {len(objects)}"
    case [("quit" | "exit") as verb]:
        result = verb
    case {"action": action, **rest}:
        result = action, rest
    case Point(x=0, y=y):
        result = y
    case _:
        result = None
"#,
    ),
    (
        &["values"],
        r#"
import itertools, functools, operator
total = functools.reduce(operator.add, values, 0)
running = list(itertools.accumulate(values))
grouped = {k: list(g) for k, g in itertools.groupby(sorted(values), key=lambda v: v % 3)}
result = total, running, grouped
"#,
    ),
    (
        &["n"],
        r#"
import asyncio

async def produce(queue):
    for i in range(n):
        await queue.put(i)
    await queue.put(None)

async def consume(queue):
    seen = []
    while (item := await queue.get()) is not None:
        seen.append(item)
    return seen

async def main():
    queue = asyncio.Queue()
    _, seen = await asyncio.gather(produce(queue), consume(queue))
    return seen

result = asyncio.run(main())
"#,
    ),
    (
        &["lines"],
        r#"
from contextlib import suppress, ExitStack
out = []
with ExitStack() as stack:
    for line in lines:
        with suppress(ValueError):
            out.append(int(line))
result = out
"#,
    ),
    (
        &["x"],
        r#"
def outer():
    a = 1
    def middle():
        nonlocal a
        a += 1
        def inner():
            return a + x
        return inner()
    return middle()
result = outer()
"#,
    ),
    (
        &["x"],
        r#"
class Meta(type):
    def __new__(mcs, name, bases, namespace):
        namespace["tag"] = name.lower()
        return super().__new__(mcs, name, bases, namespace)

class Tagged(metaclass=Meta):
    size = x
    doubled = size * 2
    def method(self):
        return __class__.tag, self.size

result = Tagged().method()
"#,
    ),
    (
        &["s"],
        r#"
try:
    value = int(s)
except ValueError:
    value = None
else:
    value += 1
finally:
    done = True
result = value, done
"#,
    ),
    (
        &["n"],
        r#"
import threading
lock = threading.Lock()
counter = [0]
def work():
    for _ in range(n):
        with lock:
            counter[0] += 1
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
result = counter[0]
"#,
    ),
    (
        &["a", "b"],
        r#"
import operator as op
ops = {"+": op.add, "-": op.sub}
result = {name: f(a, b) for name, f in ops.items()}
del ops
"#,
    ),
    (
        &["x"],
        r#"
def gen():
    received = yield 1
    while received:
        received = yield received * 2
g = gen()
first = next(g)
second = g.send(x)
result = first, second, __name__, __doc__, __builtins__ is not None
"#,
    ),
    (
        &["x"],
        r#"
from __future__ import annotations
def f(a: SomeUndefinedType) -> AnotherOne:
    return a
result = f(x)
"#,
    ),
    (
        &["x"],
        r#"
counter = 0
def bump():
    global counter, created
    counter += 1
    created = True
bump()
result = counter, created, x
"#,
    ),
    (
        &["x"],
        r#"
squares = list(map(lambda v, k=2: v ** k, range(x)))
result = sorted(squares, key=lambda v: -v)[: x // 2]
"#,
    ),
    (
        &["text"],
        r#"
result = f"{text!r:>{len(text) + 2}} {'nested' if text else 'empty'} {[c for c in text][:1]}"
"#,
    ),
    (
        &["x"],
        r#"
class Base:
    def hello(self):
        return "base"
class Child(Base):
    def hello(self):
        return super().hello() + "+child"
    class Nested:
        value = 1
        def get(self):
            return Child.Nested.value
result = Child().hello(), Child.Nested().get(), x
"#,
    ),
    (
        &["xs"],
        r#"
import numpy as np
arr = np.array(xs, dtype=float)
mask = arr > arr.mean()
arr[mask] -= 1
result = arr.tolist()
"#,
    ),
];

#[test]
fn no_false_positives_on_real_code() {
    for (inputs, code) in SNIPPETS {
        let program = analyze(code, PythonVersion::PY311);
        assert!(
            program.problems.is_empty(),
            "{code}\n{:?}",
            program.problems
        );
        if program.dynamic.is_some() {
            continue;
        }
        let undefined: Vec<_> = program
            .global_reads
            .iter()
            .filter(|read| {
                !program.module_bound.contains(&read.name)
                    && !inputs.contains(&read.name.as_str())
                    && !is_builtin(&read.name)
            })
            .map(|read| &read.name)
            .collect();
        assert!(undefined.is_empty(), "{code}\nundefined: {undefined:?}");
        assert!(
            program.module_bound.contains("result"),
            "{code}\n`result` not bound"
        );
    }
}
