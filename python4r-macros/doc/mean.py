# Used by the `file` example in the `py_exec` documentation.
result = sum(values) / len(values)
