//! The names Python gives meaning to: builtins, keywords, the calls that make names dynamic or
//! observe the frame, what counts as an identifier, and the "did you mean" suggestion.

/// Names every module sees without defining them (`dir(builtins)` of CPython 3.11 to 3.14).
pub const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "PythonFinalizationError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "_IncompleteInputError",
    "__build_class__",
    "__debug__",
    "__doc__",
    "__import__",
    "__loader__",
    "__name__",
    "__package__",
    "__spec__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Names the runtime namespace or the class machinery provides in addition to the builtins.
pub(crate) const IMPLICIT: &[&str] = &["__builtins__", "__class__", "__module__", "__qualname__"];

/// Python's keywords and constants: none of them can name a variable.
pub const KEYWORDS: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "__debug__",
];

/// Calls that read or write a namespace by name at run time: the name check cannot see through them.
pub(crate) const DYNAMIC_NAMES: &[&str] =
    &["exec", "eval", "globals", "locals", "vars", "__builtins__"];

/// Reads that observe the frame itself, so a function frame would behave differently.
pub(crate) const FRAME_NAMES: &[&str] = &["exec", "eval", "globals", "locals", "vars", "dir"];

/// Whether `name` is defined for module code without the code binding it.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name) || IMPLICIT.contains(&name)
}

/// Whether `name` is a keyword or constant (`class`, `None`, ...), which cannot name a variable.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Whether `name` is spelled as a Python identifier: a letter or `_`, then letters, digits and
/// `_` (keywords are identifiers too; see [`is_keyword`]).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Whether `name` can name a Python variable: an identifier that is not a keyword.
pub fn is_variable_name(name: &str) -> bool {
    is_identifier(name) && !is_keyword(name)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (edit_distance(name, candidate), candidate))
        // A distance as long as either name replaces it entirely: no resemblance.
        .filter(|(distance, candidate)| {
            *distance <= limit
                && *distance < name.chars().count()
                && *distance < candidate.chars().count()
        })
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names() {
        assert_eq!(suggest("arrr", ["arr", "result"]), Some("arr"));
        assert_eq!(suggest("zzz", ["arr", "result"]), None);
        assert_eq!(suggest("lenn", ["len", "arr"]), Some("len"));
        assert_eq!(suggest("k", ["_", "x"]), None);
        assert_eq!(suggest("cod", ["code", "file"]), Some("code"));
    }

    #[test]
    fn variable_names() {
        for name in ["x", "X", "_", "__x", "naïve", "a1"] {
            assert!(is_variable_name(name), "{name}");
        }
        for name in ["", "1x", "a-b", "a b", "class", "None", "__debug__"] {
            assert!(!is_variable_name(name), "{name}");
        }
    }
}
