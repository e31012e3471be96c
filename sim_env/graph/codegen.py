"""A Numba step function specialised to one compiled park, generated from :mod:`.kernel`'s own source.

The generic kernel reads the park's tables (``NI``, ``BI``, ``OPS``, ...) as arguments and
interprets the schedule op by op. Numba passes every array argument field by field (about 10
machine words each, 25 tables), so each call of a helper costs more than the physics it does,
and no branch on the topology can be decided before the step runs. Here the same source is
rewritten mechanically, never by hand, so the physics stays written once, in kernel.py:

- every ``@njit`` function of kernel.py loses the table parameters (and ``dt``, ``carbon``),
  which become module globals bound to this park's arrays; Numba freezes global arrays and
  floats into the machine code, so LLVM folds ``NI[n, I_TYPE]`` and the CSR bounds;
- ``_step_park``'s loop over ``OPS`` is unrolled: each scheduled op becomes the branch of the
  loop body that the op selects, preceded by ``i = <index>`` (so ``op``, ``n``, ``b`` fold too);
- at level "fold", everything the park's constants decide is evaluated while generating
  (:class:`_Fold`): loops over known ranges unrolled, known branches dropped, each call pointed
  at a copy of its callee with the known arguments bound; the copies the step calls directly are
  inlined by Numba (each is called once), the rest left to LLVM.

The edge mask ``MASK[k, e]``, the coefficients, states and actions stay data: K topologies run
in one call without recompiling. The module is written to a cache folder under a name hashed
from its source and its tables, so a park compiles once per machine (Numba's ``cache=True``
keeps the machine code beside it); a change of kernel.py or of the park gives a new name.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
import inspect
import io
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numba
import numpy as np

from . import compile as _compile
from . import kernel as _kernel
from .compile import CompiledPark

# parameters of kernel.py's functions that are the park's tables: frozen into the generated module
TABLES = ("NI", "NF", "NV", "PB", "PD", "PV", "PO", "PBC", "PBO", "PDEF", "BI", "BIN_PTR", "BIN_LINK", "BOUT_PTR",
          "BOUT_LINK", "BFI_PTR", "BFI_NODE", "BFO_PTR", "BFO_NODE", "STP_PTR", "STP_NODE", "LS", "LD", "LA", "LF", "LPASS",
          "OPS")
SCALARS = ("dt", "carbon", "LOOPS")  # per-park constants, frozen as well (LOOPS: None, park_module refuses loops)
FROZEN = frozenset(TABLES + SCALARS)
_LOOP_FN = "_step_park"  # the function whose loop over OPS is unrolled
# how far a park is specialised: "tables" freezes the tables and unrolls the schedule (cold
# compile ~16 s for Kråkøya, 1.3× the generic kernel); "fold" also evaluates, while generating,
# everything the park's constants decide (see _Fold): ~90 s cold, 7-8× the generic kernel
LEVELS = ("tables", "fold")


class CodegenError(RuntimeError):
    """kernel.py's source no longer has the shape the generator rewrites (names the function)."""


def cache_dir() -> Path:
    """Where generated modules live: ``$AISYM_KERNEL_CACHE``, else ``~/.cache/aisym/kernels``."""
    env = os.environ.get("AISYM_KERNEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "aisym" / "kernels"


def _clone_deco(inline: bool = False) -> ast.Call:
    kws = {"cache": True, "_nrt": False, "error_model": "numpy"} | ({"inline": "always"} if inline else {})
    return ast.Call(ast.Name("njit", ast.Load()), [], [ast.keyword(k, ast.Constant(v)) for k, v in kws.items()])


def _is_njit(node: ast.FunctionDef) -> ast.Call | None:
    for d in node.decorator_list:
        if isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "njit":
            return d
    return None


class _Strip(ast.NodeTransformer):
    """Drop the frozen arguments of calls to rewritten functions (checking they pass the same name)."""

    def __init__(self, dropped: dict[str, list[int]], params: dict[str, list[str]]):
        self.dropped, self.params = dropped, params

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in self.dropped):
            return node
        name, drop = node.func.id, set(self.dropped[node.func.id])
        if node.keywords or len(node.args) != len(self.params[name]):
            raise CodegenError(f"kernel.py: call of {name} at line {node.lineno} must pass every argument by position")
        args = []
        for i, a in enumerate(node.args):
            if i in drop:
                if not (isinstance(a, ast.Name) and a.id == self.params[name][i]):
                    raise CodegenError(f"kernel.py: line {node.lineno}: {name}'s table argument "
                                       f"{self.params[name][i]} must be passed as itself")
                continue
            args.append(a)
        node.args = args
        return node


def _decorate(deco: ast.Call) -> None:
    """``cache=True``, no reference counting (nothing is allocated), and none of kernel.py's
    ``inline``: Numba's inlining of the generic helpers is what makes a cold compile slow."""
    kws = [kw for kw in deco.keywords if kw.arg not in ("inline", "cache", "_nrt")]
    kws.append(ast.keyword("cache", ast.Constant(True)))
    kws.append(ast.keyword("_nrt", ast.Constant(False)))
    deco.keywords = kws


def _unroll(fn: ast.FunctionDef, cp: CompiledPark) -> None:
    """Replace ``for i in range(OPS.shape[0]): <prefix>; if op == OP_X: ... elif ...`` by the
    branch each scheduled op selects, in schedule order."""
    idx = next((j for j, st in enumerate(fn.body) if isinstance(st, ast.For) and isinstance(st.target, ast.Name)
                and "OPS" in ast.unparse(st.iter)), None)
    if idx is None:
        raise CodegenError(f"kernel.py: {_LOOP_FN} has no loop over OPS to unroll")
    loop = fn.body[idx]
    chain = [s for s in loop.body if isinstance(s, ast.If)]
    if len(chain) != 1 or loop.body[-1] is not chain[0]:
        raise CodegenError(f"kernel.py: {_LOOP_FN}'s loop over OPS must end in one if/elif chain on op")
    prefix = loop.body[:-1]
    branches: list[tuple[int, list[ast.stmt]]] = []
    node: ast.stmt | None = chain[0]
    while isinstance(node, ast.If):
        t = node.test
        if not (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "op"
                and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq) and isinstance(t.comparators[0], ast.Name)):
            raise CodegenError(f"kernel.py: {_LOOP_FN}: a branch tests {ast.unparse(t)!r}, not op == OP_<name>")
        branches.append((getattr(_compile, t.comparators[0].id), node.body))
        node = node.orelse[0] if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) else None
    if chain[0] is not None and _else_of(chain[0]):
        raise CodegenError(f"kernel.py: {_LOOP_FN}: the op chain may not end in a bare else")
    by_op = dict(branches)
    out: list[ast.stmt] = []
    for i, op in enumerate(cp.OPS[:, 0].tolist()):
        out.append(ast.parse(f"{loop.target.id} = {i}").body[0])
        out += prefix
        if op in by_op:
            out += [copy.deepcopy(st) for st in by_op[op]]
    fn.body[idx:idx + 1] = out or [ast.Pass()]


def _else_of(node: ast.If) -> list:
    while len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        node = node.orelse[0]
    return node.orelse


def generate(cp: CompiledPark, level: str = "fold", source: str | None = None) -> str:
    """The specialised module's source for ``cp`` (tables are loaded from the ``.npz`` beside it).

    :param cp: the compiled park
    :param level: one of :data:`LEVELS`
    :param source: kernel source to rewrite (default: kernel.py's)
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    tree = ast.parse(source if source is not None else inspect.getsource(_kernel))
    body: list[ast.stmt] = []
    fns: list[tuple[ast.FunctionDef, ast.Call]] = []
    for st in tree.body:
        if isinstance(st, ast.ImportFrom):
            if st.module == "__future__":
                continue
            if st.level:  # from .compile import ... -> from sim_env.graph.compile import ...
                st.module = f"{_compile.__package__}.{st.module}" if st.module else _compile.__package__
                st.level = 0
            body.append(st)
        elif isinstance(st, ast.Import | ast.Assign) and not _uses_class(st):
            body.append(st)
        elif isinstance(st, ast.FunctionDef) and (deco := _is_njit(st)) is not None:
            fns.append((st, deco))
            body.append(st)
    params = {f.name: [a.arg for a in f.args.args] for f, _ in fns}
    dropped = {name: [i for i, a in enumerate(ps) if a in FROZEN] for name, ps in params.items()}
    strip = _Strip(dropped, params)
    for f, deco in fns:
        f.args.args = [a for a in f.args.args if a.arg not in FROZEN]
        strip.visit(f)
        _decorate(deco)
    by_name = {f.name: f for f, _ in fns}
    loop_fn = by_name.get(_LOOP_FN)
    if loop_fn is not None:
        _unroll(loop_fn, cp)
        if level == "fold":
            fold = _Fold(by_name, _constants(cp))
            loop_fn.body = fold.block(loop_fn.body, dict(fold.consts))
            pos = body.index(loop_fn)
            body[pos:pos] = fold.out
    if _LOOP_FN not in params:
        raise CodegenError(f"kernel.py has no @njit {_LOOP_FN}")
    head = ast.parse(
        "import numpy as np\n"
        "_TABLES = np.load(__file__[:-3] + '.npz')\n"
        + "".join(f"{t} = np.ascontiguousarray(_TABLES[{t!r}])\n" for t in TABLES)
        + f"dt = {float(cp.dt_h)!r}\ncarbon = {float(cp.carbon_price_per_kg)!r}\nLOOPS = None\n").body
    tree.body = head + body
    doc = f'"""Generated by sim_env/graph/codegen.py for park {cp.graph.id!r} (level {level}); do not edit."""\n'
    return doc + ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _constants(cp: CompiledPark) -> dict:
    """What the generated module knows before it runs: the tables, ``dt``, ``carbon``, and the
    integer and float constants of kernel.py and compile.py."""
    env = {}
    for mod in (_compile, _kernel):
        env.update({k: v for k, v in vars(mod).items() if isinstance(v, int | float) and not isinstance(v, bool)})
    env.update(tables(cp))
    env["dt"], env["carbon"] = float(cp.dt_h), float(cp.carbon_price_per_kg)
    return env


def _uses_class(st: ast.stmt) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ("CompiledPark",) for n in ast.walk(st))


def tables(cp: CompiledPark) -> dict[str, np.ndarray]:
    return {t: np.ascontiguousarray(getattr(cp, t)) for t in TABLES}


def _digest(src: str, tabs: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(src.encode())
    h.update(f"numba {numba.__version__} numpy {np.__version__} py {sys.version_info[:2]}".encode())
    for name, a in tabs.items():
        h.update(f"{name}{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:20]


_LOADED: dict[str, ModuleType] = {}


def park_module(cp: CompiledPark, level: str = "fold") -> ModuleType:
    """The specialised module of ``cp``: written once into :func:`cache_dir`, imported once per process.

    :param cp: the compiled park
    :param level: one of :data:`LEVELS`
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if cp.loops:  # the schedule is unrolled once here; a loop's segment repeats (kernel._loop)
        raise CodegenError(f"{cp.graph.source}: a park with loops ({'; '.join(', '.join(v) for v in cp.loops.values())}) "
                           "runs on the generic kernel only (specialise=None)")
    tabs = tables(cp)
    # named by what the source is generated from (the generator, kernel.py, compile.py, the
    # tables), so a known park skips generating it (~1 s for "fold")
    inputs = "\n".join(inspect.getsource(m) for m in (sys.modules[__name__], _kernel, _compile))
    key = _digest(f"{inputs}\n{level} {cp.graph.id} {cp.dt_h!r} {cp.carbon_price_per_kg!r}", tabs)
    if key in _LOADED:
        return _LOADED[key]
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"park_{key}.py"
    if not path.exists():
        src = generate(cp, level)
        buf = io.BytesIO()
        np.savez(buf, **tabs)
        _atomic_write(path.with_suffix(".npz"), buf.getvalue())
        _atomic_write(path, src.encode())
    name = f"aisym_park_kernel_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    _LOADED[key] = mod
    return mod


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a second process never reads half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def arguments(fn, values: dict) -> list:
    """The positional arguments of the generated ``fn`` taken by name from ``values``."""
    return [values[p] for p in inspect.signature(fn.py_func).parameters]


# ----------------------------------------------------------------------------------------------
# level "fold": a partial evaluation of the unrolled step over the park's constants.


class _Fold:
    """Specialise functions on what is known when generating: the tables, the per-op ``n``/``b``,
    and every local computed from them. Loops whose bounds are known are unrolled, branches whose
    test is known are dropped, and each call gets a copy of its callee with its known arguments
    bound (memoised). Nothing is evaluated that the kernel would not compute the same way: the
    statements stay; only control flow decided by constants is resolved.

    The copies called from the step itself are inlined by Numba (``inline_root``): each is called
    once, and a call passes every array argument field by field (~100 machine words), which cost
    as much as the folded physics (1.05 -> 2.2 M park-steps/s on Kråkøya, cold compile 60 -> 90 s).
    """

    MAX_CLONES = 4000

    def __init__(self, fns: dict[str, ast.FunctionDef], consts: dict, inline_root: bool = True):
        self.fns, self.consts = fns, consts
        self.inline_root, self.depth = inline_root, 0
        self.clones: dict[tuple, str] = {}
        self.out: list[ast.FunctionDef] = []

    # -- constants
    def value(self, expr: ast.expr, env: dict):
        """The value of ``expr`` if everything in it is known (ints and finite floats only)."""
        for n in ast.walk(expr):
            if isinstance(n, ast.Name) and n.id not in env and n.id not in ("min", "max"):
                return None
            if isinstance(n, ast.Attribute) and n.attr != "shape":
                return None
            if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in ("min", "max")):
                return None
            if not isinstance(n, _PURE):
                return None
        try:
            v = eval(compile(ast.Expression(expr), "<fold>", "eval"), {"__builtins__": {"min": min, "max": max}}, env)
        except Exception:
            return None
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, int | np.integer):
            return int(v)
        if isinstance(v, float | np.floating) and np.isfinite(v):
            return float(v)
        return None

    # -- statements
    def block(self, body: list[ast.stmt], env: dict) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for st in body:
            out += self.stmt(st, env)
        return out

    def stmt(self, st: ast.stmt, env: dict) -> list[ast.stmt]:
        if isinstance(st, ast.For):
            return self.loop(st, env)
        if isinstance(st, ast.If):
            v = self.value(st.test, env)
            if v is not None:
                return self.block(st.body if v else st.orelse, env)
            st = copy.copy(st)
            st.test = self.calls(st.test, env)
            e1, e2 = dict(env), dict(env)
            st.body = self.block(st.body, e1) or [ast.Pass()]
            st.orelse = self.block(st.orelse, e2)
            _forget(env, _stored(st))
            return [st]
        if isinstance(st, ast.While):
            raise CodegenError("kernel.py: while loops are not folded")
        st = self.calls(st, env)
        if isinstance(st, ast.Assign):
            for t in st.targets:
                _forget(env, _stored(t))
            if len(st.targets) == 1:
                self.bind(st.targets[0], st.value, env)
        elif isinstance(st, ast.AugAssign | ast.AnnAssign):
            _forget(env, _stored(st))
        return [st]

    def bind(self, target: ast.expr, value: ast.expr, env: dict) -> None:
        if isinstance(target, ast.Name):
            v = self.value(value, env)
            if v is not None:
                env[target.id] = v
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            vals = [self.value(v, env) for v in value.elts]
            for t, v in zip(target.elts, vals, strict=True):
                if isinstance(t, ast.Name) and v is not None:
                    env[t.id] = v

    def loop(self, st: ast.For, env: dict) -> list[ast.stmt]:
        rng = None
        if (isinstance(st.target, ast.Name) and not st.orelse and isinstance(st.iter, ast.Call)
                and isinstance(st.iter.func, ast.Name) and st.iter.func.id == "range"):
            args = [self.value(a, env) for a in st.iter.args]
            if all(isinstance(a, int) for a in args):
                rng = range(*args)
        brk, cont = _jumps(st.body)
        if rng is None or (brk and cont) or len(rng) > 64:
            st = copy.copy(st)
            st.iter = self.calls(st.iter, env)
            _forget(env, _stored(st))
            st.body = self.block(st.body, dict(env)) or [ast.Pass()]
            _forget(env, _stored(st))
            return [st]
        out: list[ast.stmt] = []
        for v in rng:
            env[st.target.id] = v
            it = [ast.Assign([ast.Name(st.target.id, ast.Store())], ast.Constant(v))]
            it += self.block(copy.deepcopy(st.body), env)
            out += _once(it) if cont else it
        _forget(env, _stored(st))
        if brk and out:
            return _once(out)
        return out

    # -- calls
    def calls(self, node, env: dict):
        """Point calls of kernel functions at copies specialised on their known arguments."""
        fold = self

        class _T(ast.NodeTransformer):
            def visit_Call(self, c: ast.Call):
                self.generic_visit(c)
                if isinstance(c.func, ast.Name) and c.func.id in fold.fns:
                    return fold.call(c, env)
                return c

        return _T().visit(node)

    def call(self, c: ast.Call, env: dict) -> ast.Call:
        f = self.fns[c.func.id]
        params = [a.arg for a in f.args.args]
        known = {j: self.value(a, env) for j, a in enumerate(c.args)}
        known = {j: v for j, v in known.items() if v is not None}
        key = (f.name, tuple(sorted(known.items())))
        if key not in self.clones:
            if len(self.clones) >= self.MAX_CLONES:
                raise CodegenError(f"more than {self.MAX_CLONES} specialised functions: the park is too large to fold")
            name = f"{f.name}__f{len(self.clones)}"
            self.clones[key] = name
            g = copy.deepcopy(f)
            g.name = name
            g.args.args = [a for j, a in enumerate(g.args.args) if j not in known]
            fenv = dict(self.consts)
            head = []
            for j, v in known.items():
                fenv[params[j]] = v
                head.append(ast.Assign([ast.Name(params[j], ast.Store())], ast.Constant(v)))
            doc = g.body[:1] if g.body and isinstance(g.body[0], ast.Expr) and isinstance(g.body[0].value,
                                                                                       ast.Constant) else []
            self.depth += 1
            g.body = doc + head + (self.block(g.body[len(doc):], fenv) or [ast.Pass()])
            self.depth -= 1
            g.decorator_list = [_clone_deco(inline=self.inline_root and self.depth == 0)]
            self.out.append(g)
        c = copy.copy(c)
        c.func = ast.Name(self.clones[key], ast.Load())
        c.args = [a for j, a in enumerate(c.args) if j not in known]
        return c


_PURE = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Subscript, ast.Tuple,
         ast.Attribute, ast.Call, ast.Slice, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _stored(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _forget(env: dict, names: set[str]) -> None:
    for n in names:
        env.pop(n, None)


def _jumps(body: list[ast.stmt]) -> tuple[bool, bool]:
    """Whether ``break`` / ``continue`` of this loop (not of a nested one) occur in ``body``."""
    brk = cont = False
    stack = list(body)
    while stack:
        st = stack.pop()
        if isinstance(st, ast.Break):
            brk = True
        elif isinstance(st, ast.Continue):
            cont = True
        elif isinstance(st, ast.For | ast.While):
            continue
        else:
            stack += [c for c in ast.iter_child_nodes(st) if isinstance(c, ast.stmt)]
    return brk, cont


def _once(body: list[ast.stmt]) -> list[ast.stmt]:
    """``for _once in range(1): body``: a ``break``/``continue`` in it leaves exactly this block."""
    return [ast.For(ast.Name("_once", ast.Store()), ast.Call(ast.Name("range", ast.Load()), [ast.Constant(1)], []),
                    body or [ast.Pass()], [])]
