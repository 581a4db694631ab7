"""Code-object helpers of python4r's `#[py_exec]` runtime (python4r/src/pyfn.rs).

Executed once per process in a private namespace. `parse` reads a body with Python's own `ast`
module (so string contents, lines and columns stay as written) and shifts its line numbers to the
Rust (or `.py`) source; `make_function` wraps a body in a function that takes the inputs and
returns the outputs, for bodies that behave the same as module code.
"""
import ast as _ast
import linecache as _linecache
import sys as _sys
import types as _types
import os as _os

MISSING = "<python4r: output not assigned " + _os.urandom(8).hex() + ">"

def parse(text, filename, line, indented):
    source = "if True:\n" + text if indented else text
    shift = line - 2 if indented else line - 1
    try:
        tree = _ast.parse(source, filename, "exec")
    except SyntaxError as error:
        if error.lineno is not None:
            error.lineno += shift
        if getattr(error, "end_lineno", None) is not None:
            error.end_lineno += shift
        error.filename = filename
        raise
    body = tree.body[0].body if indented else tree.body
    module = _ast.Module(body=body, type_ignores=[])
    return _ast.increment_lineno(module, shift)

def compile_module(module, filename):
    return compile(module, filename, "exec", dont_inherit=True)

def _requalify(code, prefix):
    consts = tuple(
        _requalify(c, prefix) if isinstance(c, _types.CodeType)
        else c[len(prefix):] if isinstance(c, str) and c.startswith(prefix)
        else c
        for c in code.co_consts
    )
    changes = {"co_consts": consts}
    qualname = getattr(code, "co_qualname", None)
    if qualname is not None and qualname.startswith(prefix):
        changes["co_qualname"] = qualname[len(prefix):]
    return code.replace(**changes)

def make_function(module, inputs, outputs, filename, namespace):
    name = "<module>"
    body = list(module.body)
    end = max((getattr(node, "end_lineno", None) or node.lineno for node in body), default=1)
    first = body[0].lineno if body else end
    load = lambda n: _ast.Name(id=n, ctx=_ast.Load())
    tail = []
    def guarded(statement, handler):
        return _ast.Try(
            body=[statement],
            handlers=[_ast.ExceptHandler(type=load("NameError"), name=None, body=[handler])],
            orelse=[],
            finalbody=[],
        )
    if len(outputs) == 1:
        # One output comes back as it is; a missing one as `missing`, a constant of this code
        # object that no other code can produce.
        tail.append(guarded(_ast.Return(value=load(outputs[0])), _ast.Pass()))
        tail.append(_ast.Return(value=_ast.Constant(value=MISSING)))
    elif outputs:
        values = _ast.Tuple(elts=[load(o) for o in outputs], ctx=_ast.Load())
        tail.append(guarded(_ast.Return(value=values), _ast.Pass()))
        for index, output in enumerate(outputs):
            tail.append(guarded(_ast.Expr(value=load(output)), _ast.Return(value=_ast.Constant(value=index))))
    for node in tail:
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = end, 0, end, 0
    arguments = _ast.arguments(
        posonlyargs=[_ast.arg(arg=n) for n in inputs], args=[], vararg=None,
        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[],
    )
    function = _ast.FunctionDef(
        name=name, args=arguments, body=(body + tail) or [_ast.Pass()],
        decorator_list=[], returns=None, type_comment=None,
    )
    if _sys.version_info >= (3, 12):
        function.type_params = []
    function.lineno, function.col_offset, function.end_lineno, function.end_col_offset = first, 0, end, 0
    tree = _ast.fix_missing_locations(_ast.Module(body=[function], type_ignores=[]))
    code = compile(tree, filename, "exec", dont_inherit=True)
    scratch = {}
    exec(code, namespace, scratch)
    made = scratch[name]
    made.__code__ = _requalify(made.__code__, name + ".<locals>.")
    missing = next((c for c in made.__code__.co_consts if type(c) is str and c == MISSING), None)
    return made, missing


def register(filename, text):
    """Makes tracebacks show `text` as the source of `filename` (a name that is not a file)."""
    lines = text.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # No modification time: `linecache.checkcache` leaves the entry alone.
    _linecache.cache[filename] = (len(text), None, lines, filename)

def locate(error, tb, filename):
    """The line of `filename` running when `error` was raised (with traceback `tb`): its
    innermost traceback frame in that file (or a SyntaxError's own line), else None."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(error, SyntaxError) and error.filename == filename:
        line = error.lineno
    return line
